# The header: the pretrained model loading, the compute badge, saving and the offline copy.

model-loading = Loading the pretrained model…{" "}
model-download-progress = {" "}{ $received } of { $total }
compute-badge = { $path } · { $workers ->
    [one] { $workers } worker
   *[other] { $workers } workers
}
compute-path-cpu = CPU
compute-path-webgpu = WebGPU
opening-saved-work = Opening your saved work…
model-ready = Model ready
model-failed = The model could not start. Check the connection to the page's server and reload.
storage-saved = Saved on this device
storage-saving = Saving…
storage-saved-size = Saved on this device ({ $size })
storage-not-saved = Latest change not saved
storage-other-tab = Not saved: open in another tab
storage-unavailable = Not saved in this browser
storage-kept = {" "}· kept until you delete it
storage-may-be-cleared = {" "}· the browser may clear it
storage-keep-refused = {" "}· the browser may clear it: save the project file to be sure
storage-keep = Keep it on this device
offline-ready = {" "}· works offline
offline-unavailable = {" "}· needs the network
new-project = New project
new-project-confirm = Start a new project? Every class, photo and model on this device will be deleted.
