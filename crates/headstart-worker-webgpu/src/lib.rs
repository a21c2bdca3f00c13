//! Headstart's model worker, built with burn's WebGPU backend (the `webgpu` feature of
//! `headstart-worker`, whose code this is). Its wasm is about five times the CPU build's, so the
//! page fetches it only for its first worker, and only when WebGPU was asked for or the browser
//! offers a hardware adapter; every other worker, and every browser without a GPU, gets the CPU
//! build.

pub use headstart_worker::*;
