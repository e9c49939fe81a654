use super::{Call, CallError};
use crate::vtl::value::Value;

pub(super) fn call(c: &Call) -> Result<Value, CallError> {
    let _ = c;
    Err(CallError::NoSuchMethod)
}
