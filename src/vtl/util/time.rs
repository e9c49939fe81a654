use super::{Call, CallError};
use crate::vtl::runtime::Host;
use crate::vtl::value::Value;

pub(super) fn call(host: &mut Host, c: &Call) -> Result<Value, CallError> {
    let _ = (host, c);
    Err(CallError::NoSuchMethod)
}
