//! Values generic over a backend moved to another backend with the same primitives: the
//! enums and structs of Burn's operation traits that name the backend (`TensorPrimitive<B>`,
//! `MaxPool2dWithIndices<B>` and the others) hold only its tensors, so each field moves
//! as it is.

use burn_backend::ops::{
    DeformConv2dBackward, MaxPool1dBackward, MaxPool1dWithIndices, MaxPool2dBackward,
    MaxPool2dWithIndices, TransactionPrimitive,
};
use burn_backend::quantization::QuantizationParametersPrimitive;
use burn_backend::{Backend, BackendTypes, TensorPrimitive};

/// `B` has `A`'s tensor primitives.
pub(crate) trait SamePrimitives<A: BackendTypes>:
    Backend
    + BackendTypes<
        FloatTensorPrimitive = A::FloatTensorPrimitive,
        IntTensorPrimitive = A::IntTensorPrimitive,
        BoolTensorPrimitive = A::BoolTensorPrimitive,
        QuantizedTensorPrimitive = A::QuantizedTensorPrimitive,
    >
{
}

impl<A, B> SamePrimitives<A> for B
where
    A: BackendTypes,
    B: Backend
        + BackendTypes<
            FloatTensorPrimitive = A::FloatTensorPrimitive,
            IntTensorPrimitive = A::IntTensorPrimitive,
            BoolTensorPrimitive = A::BoolTensorPrimitive,
            QuantizedTensorPrimitive = A::QuantizedTensorPrimitive,
        >,
{
}

/// A value over one backend, rebuilt over another with the same primitives.
pub(crate) trait Recast<T> {
    fn recast(self) -> T;
}

/// `value` rebuilt over the backend the caller expects.
pub(crate) fn recast<T: Recast<U>, U>(value: T) -> U {
    value.recast()
}

impl<A: Backend, B: SamePrimitives<A>> Recast<TensorPrimitive<B>> for TensorPrimitive<A> {
    fn recast(self) -> TensorPrimitive<B> {
        match self {
            TensorPrimitive::Float(tensor) => TensorPrimitive::Float(tensor),
            TensorPrimitive::QFloat(tensor) => TensorPrimitive::QFloat(tensor),
        }
    }
}

impl<A: Backend, B: SamePrimitives<A>> Recast<QuantizationParametersPrimitive<B>>
    for QuantizationParametersPrimitive<A>
{
    fn recast(self) -> QuantizationParametersPrimitive<B> {
        QuantizationParametersPrimitive {
            scales: self.scales,
        }
    }
}

/// Only the tensors to read move: a transaction reaches `tr_execute` after
/// `execute_async` has taken out the order in which they were registered.
impl<A: Backend, B: SamePrimitives<A>> Recast<TransactionPrimitive<B>> for TransactionPrimitive<A> {
    fn recast(self) -> TransactionPrimitive<B> {
        TransactionPrimitive::new(
            self.read_floats,
            self.read_qfloats,
            self.read_ints,
            self.read_bools,
        )
    }
}

impl<A: Backend, B: SamePrimitives<A>> Recast<DeformConv2dBackward<B>> for DeformConv2dBackward<A> {
    fn recast(self) -> DeformConv2dBackward<B> {
        DeformConv2dBackward {
            x_grad: self.x_grad,
            offset_grad: self.offset_grad,
            weight_grad: self.weight_grad,
            mask_grad: self.mask_grad,
            bias_grad: self.bias_grad,
        }
    }
}

impl<A: Backend, B: SamePrimitives<A>> Recast<MaxPool1dBackward<B>> for MaxPool1dBackward<A> {
    fn recast(self) -> MaxPool1dBackward<B> {
        MaxPool1dBackward {
            x_grad: self.x_grad,
        }
    }
}

impl<A: Backend, B: SamePrimitives<A>> Recast<MaxPool2dBackward<B>> for MaxPool2dBackward<A> {
    fn recast(self) -> MaxPool2dBackward<B> {
        MaxPool2dBackward {
            x_grad: self.x_grad,
        }
    }
}

impl<A: Backend, B: SamePrimitives<A>> Recast<MaxPool1dWithIndices<B>> for MaxPool1dWithIndices<A> {
    fn recast(self) -> MaxPool1dWithIndices<B> {
        MaxPool1dWithIndices {
            output: self.output,
            indices: self.indices,
        }
    }
}

impl<A: Backend, B: SamePrimitives<A>> Recast<MaxPool2dWithIndices<B>> for MaxPool2dWithIndices<A> {
    fn recast(self) -> MaxPool2dWithIndices<B> {
        MaxPool2dWithIndices {
            output: self.output,
            indices: self.indices,
        }
    }
}
