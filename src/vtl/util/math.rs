//! `$util.math`: rounding, min/max and random numbers.

use super::{Call, CallError};
use crate::vtl::runtime::RenderState;
use crate::vtl::value::Value;

pub(super) fn call(host: &mut RenderState<'_>, c: &Call) -> Result<Value, CallError> {
    match c.method {
        "roundNum" => {
            let sig = "roundNum(Double)";
            c.arity(1, 1, sig)?;
            Ok(Value::Int(java_round(c.float(0, sig)?)))
        }
        "minVal" | "maxVal" => {
            let sig = "(Double, Double)";
            c.arity(2, 2, sig)?;
            let (a, b) = (c.float(0, sig)?, c.float(1, sig)?);
            // Java's Math.min/max: NaN wins.
            let v = if a.is_nan() || b.is_nan() {
                f64::NAN
            } else if c.method == "minVal" {
                a.min(b)
            } else {
                a.max(b)
            };
            Ok(Value::Float(v))
        }
        "randomDouble" => {
            c.arity(0, 0, "randomDouble()")?;
            Ok(Value::Float(host.host.random_f64()))
        }
        "randomWithinRange" => {
            let sig = "randomWithinRange(Integer, Integer)";
            c.arity(2, 2, sig)?;
            let (lo, hi) = (c.int(0, sig)?, c.int(1, sig)?);
            // The DG does not say whether the bounds are inclusive; both are.
            match host.host.random_in_range(lo, hi) {
                Some(x) => Ok(Value::Int(x)),
                None => Err(CallError::Invalid(format!(
                    "randomWithinRange: the minimum {lo} is greater than the maximum {hi}"
                ))),
            }
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Java `Math.round(double)`: half up, NaN → 0, saturating.
fn java_round(x: f64) -> i64 {
    if x.is_nan() {
        0
    } else {
        (x + 0.5).floor() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, check, run};
    use crate::vtl::runtime::{Host, RenderState};
    use crate::vtl::value::Value;

    #[test]
    fn math_helpers() {
        let cases = [
            ("roundNum", "[2.5]", "3"),
            ("roundNum", "[-2.5]", "-2"),
            ("roundNum", "[7]", "7"),
            ("roundNum", "[1e30]", "9223372036854775807"),
            (
                "roundNum",
                r#"["1"]"#,
                "!Invalid: Invalid arguments for $util.math.roundNum(String): expected roundNum(Double)",
            ),
            ("minVal", "[3, 1.5]", "1.5"),
            ("maxVal", "[3, 1.5]", "3.0"),
            ("randomWithinRange", "[5, 5]", "5"),
            (
                "randomWithinRange",
                "[6, 5]",
                "!Invalid: randomWithinRange: the minimum 6 is greater than the maximum 5",
            ),
        ];
        for (method, args, want) in cases {
            check("util.math", method, args, want);
        }
    }

    #[test]
    fn random_values_stay_in_range() {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        for _ in 0..200 {
            match run(&mut host, "util.math", "randomDouble", "[]") {
                Ok(Value::Float(x)) => assert!((0.0..1.0).contains(&x), "{x}"),
                other => panic!("randomDouble gave {other:?}"),
            }
            match run(&mut host, "util.math", "randomWithinRange", "[-2, 3]") {
                Ok(Value::Int(x)) => assert!((-2..=3).contains(&x), "{x}"),
                other => panic!("randomWithinRange gave {other:?}"),
            }
        }
    }
}
