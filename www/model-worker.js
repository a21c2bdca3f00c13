// Starts a Headstart model worker: the page sends the worker's wasm, compiled once for all
// workers, and the URL of its wasm-bindgen glue; once the wasm runs, its start function takes
// over this worker's messages and the page is told "loaded".
self.onmessage = async ({ data }) => {
  self.onmessage = null;
  try {
    importScripts(data.glue);
    await wasm_bindgen({ module_or_path: data.module });
    self.postMessage("loaded");
  } catch (error) {
    self.postMessage(`the model worker could not load: ${error}`);
  }
};
