# Why the model runs where it runs: the badge's reason.

compute-reason-cpu-requested = the CPU was requested
compute-reason-no-webgpu = this browser does not offer WebGPU here
compute-reason-no-adapter = the browser found no WebGPU adapter
compute-reason-adapter-failed = asking the browser for a WebGPU adapter failed ({ $detail })
compute-reason-software-adapter = WebGPU here is a software adapter ({ $adapter }), slower than the CPU path
compute-reason-webgpu-not-loaded = the page loaded this worker without WebGPU
compute-reason-webgpu-failed = WebGPU failed to start ({ $detail })
compute-reason-model-not-loaded = WebGPU could not hold the model ({ $detail })
compute-reason-webgpu-adapter = WebGPU adapter: { $adapter }
compute-reason-gpu-stopped = WebGPU stopped working ({ $detail }); the CPU took over
gpu-distrust-cpu = the CPU could not check WebGPU ({ $detail })
gpu-distrust-failed = WebGPU failed running the model ({ $detail })
gpu-distrust-differs = WebGPU results differ from the CPU's by { $difference }
