//! Reading tensors back from the compute device: one asynchronous read each (WebGPU has no
//! synchronous reads).

use burn::tensor::{ExecutionError, Tensor};

/// Reads a `[rows, columns]` tensor back to the host with one asynchronous read.
pub async fn read_rows(tensor: Tensor<2>) -> Result<Vec<Vec<f32>>, ExecutionError> {
    let [_, columns] = tensor.dims();
    let values = tensor
        .into_data_async()
        .await?
        .try_to_vec::<f32>()
        .expect("float tensor");
    Ok(values.chunks(columns.max(1)).map(<[f32]>::to_vec).collect())
}
