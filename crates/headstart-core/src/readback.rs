//! Reading tensors back from the compute device: one asynchronous read each (WebGPU has no
//! synchronous reads), in the element type the host wants whatever type the device holds.

use burn::tensor::kind::Basic;
use burn::tensor::{Element, ExecutionError, Tensor};

/// The values of `tensor`, row-major, as `E` (converted if the device holds another type).
/// Values that cannot be given as `E` are an execution error, like a read that fails.
pub async fn read_values<E: Element, const D: usize, K: Basic>(
    tensor: Tensor<D, K>,
) -> Result<Vec<E>, ExecutionError> {
    tensor
        .into_data_async()
        .await?
        .try_into_vec_as::<E>()
        .map_err(|error| ExecutionError::WithContext {
            reason: format!("the values read back are not {:?}: {error}", E::dtype()),
        })
}

/// Reads a `[rows, columns]` tensor back to the host with one asynchronous read.
pub async fn read_rows(tensor: Tensor<2>) -> Result<Vec<Vec<f32>>, ExecutionError> {
    let [_, columns] = tensor.dims();
    let values: Vec<f32> = read_values(tensor).await?;
    Ok(values.chunks(columns.max(1)).map(<[f32]>::to_vec).collect())
}
