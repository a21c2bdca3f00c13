// The page's service worker: once it is installed, every file of the page comes from its
// cache, so the page works with no network at all. scripts/offline.py writes the list of the
// built page's files and their version into this file at build time (and, apart, the WebGPU
// build of the model worker, cached only when a page that uses it asks); a new build is a new
// version, which the browser installs on a visit with the network. It takes over (and the old
// cache goes) once no tab runs the old version, so an open page never mixes files of two builds.
const VERSION = "__VERSION__";
const FILES = __FILES__;
const ON_DEMAND = new Set(__ON_DEMAND__.map((path) => new URL(path, self.registration.scope).href));
const CACHE = `headstart-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(FILES)),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("headstart-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

// A page whose first worker runs the WebGPU build asks for it to be kept too ({ keep: [files] }).
self.addEventListener("message", (event) => {
  const keep = (event.data?.keep ?? []).map((path) => new URL(path, self.registration.scope).href).filter((url) => ON_DEMAND.has(url));
  event.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      for (const url of keep) if (!(await cache.match(url))) await cache.add(url);
    }),
  );
});

// The page's own files from the cache (the page's address with any ?parameters is its
// index.html); anything else, or anything not cached, from the network as usual.
self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    caches
      .open(CACHE)
      .then((cache) => cache.match(request, { ignoreSearch: request.mode === "navigate" }))
      .then((cached) => cached ?? fetch(request)),
  );
});
