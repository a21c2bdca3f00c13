// Starts a Headstart model worker: the page sends the worker's wasm, compiled once for all
// workers, and the URL of its wasm-bindgen glue; once the wasm runs, its start function takes
// over this worker's messages and the page is told "loaded".
//
// A WebGPU device this worker gets is watched: if the browser loses it (a driver reset, the GPU
// taken away), the worker ends with an error, and the page replaces it on the CPU path and sends
// its photos again; a run it was training fails with a message and the last model stays. With
// `testHooks` (the page's ?test-hooks), `self.headstartLoseDevice()` loses it on purpose.
self.onmessage = async ({ data }) => {
  self.onmessage = null;
  watchWebGpuDevices(data.testHooks);
  try {
    importScripts(data.glue);
    await wasm_bindgen({ module_or_path: data.module });
    self.postMessage("loaded");
  } catch (error) {
    self.postMessage(`the model worker could not load: ${error}`);
  }
};

function watchWebGpuDevices(testHooks) {
  if (!self.GPUAdapter) return;
  let lostOnPurpose = false;
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...options) {
    const device = await requestDevice.apply(this, options);
    device.lost.then((info) => {
      // A device the worker's own code destroys (when it drops it) is not lost.
      if (info.reason === "destroyed" && !lostOnPurpose) return;
      setTimeout(() => {
        throw new Error(`the WebGPU device was lost (${info.reason}: ${info.message})`);
      });
    });
    if (testHooks) {
      self.headstartLoseDevice = () => {
        lostOnPurpose = true;
        device.destroy();
      };
    }
    return device;
  };
}
