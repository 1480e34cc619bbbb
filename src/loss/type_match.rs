//! Recognising a backend by type: a value typed as `T` moves into `U` when the two are the
//! same type, so a generic function can hand its tensors to a kernel written for one
//! concrete backend without adding bounds to its signature.

use std::any::Any;

/// Moves `value` into `U` when `T` is `U`, and gives it back otherwise.
pub(crate) fn same_type<T: 'static, U: 'static>(value: T) -> std::result::Result<U, T> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>() {
        Some(as_u) => Ok(as_u.take().expect("the slot was filled just above")),
        None => Err(slot.expect("the slot is only emptied on a match")),
    }
}

/// `same_type` for a value that is known to be `U` (a kernel ran on the caller's own type).
pub(crate) fn back_to<T: 'static, U: 'static>(value: T) -> U {
    same_type(value).unwrap_or_else(|_| unreachable!("the kernel's backend is the caller's"))
}
