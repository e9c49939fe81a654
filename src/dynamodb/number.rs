//! DynamoDB's `N`: an exact decimal with 38 significant digits and a
//! magnitude between 1E-130 and 9.99...E+125.

use std::cmp::Ordering;
use std::fmt;

/// Maximum significant digits DynamoDB stores.
pub const MAX_DIGITS: usize = 38;
const MAX_EXPONENT: i32 = 125;
const MIN_EXPONENT: i32 = -130;

/// An exact decimal `±d1.d2d3… × 10^exponent`, normalised: no leading or
/// trailing zero digits, and zero is positive with no digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    digits: Vec<u8>,
    exponent: i32,
}

/// Why a string or a result is not a valid DynamoDB number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    NotNumeric(String),
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    #[error(
        "Number underflow. Attempting to store a number with magnitude smaller than supported range"
    )]
    Underflow,
    #[error("Attempting to store more than 38 significant digits in a Number")]
    Precision,
}

impl Number {
    pub fn zero() -> Self {
        Number {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Decimal digits, most significant first.
    pub fn digits(&self) -> &[u8] {
        &self.digits
    }

    /// Exponent of the first digit (scientific notation).
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// Parses DynamoDB's number syntax: optional sign, digits with an
    /// optional point, optional exponent.
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        let bad = || NumberError::NotNumeric(s.to_string());
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if let Some(&c) = bytes.first()
            && (c == b'+' || c == b'-')
        {
            negative = c == b'-';
            i = 1;
        }
        let mut mantissa = Vec::new();
        let mut point: Option<usize> = None;
        let mut seen_digit = false;
        while i < bytes.len() {
            match bytes[i] {
                c @ b'0'..=b'9' => {
                    mantissa.push(c - b'0');
                    seen_digit = true;
                }
                b'.' if point.is_none() => point = Some(mantissa.len()),
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return Err(bad());
        }
        let mut exp10: i64 = 0;
        if i < bytes.len() {
            if bytes[i] != b'e' && bytes[i] != b'E' {
                return Err(bad());
            }
            i += 1;
            let mut exp_negative = false;
            if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                exp_negative = bytes[i] == b'-';
                i += 1;
            }
            if i >= bytes.len() {
                return Err(bad());
            }
            while i < bytes.len() {
                let c = bytes[i];
                if !c.is_ascii_digit() {
                    return Err(bad());
                }
                // Saturate: anything this large is out of range anyway.
                exp10 = (exp10 * 10 + i64::from(c - b'0')).min(1_000_000);
                i += 1;
            }
            if exp_negative {
                exp10 = -exp10;
            }
        }
        let int_len = point.unwrap_or(mantissa.len()) as i64;
        // value = 0.m1m2... × 10^(int_len) × 10^exp10
        let lead = mantissa.iter().take_while(|&&d| d == 0).count();
        let digits: Vec<u8> = mantissa[lead..].to_vec();
        let sci = int_len - lead as i64 - 1 + exp10;
        Number::from_parts(negative, digits, sci)
    }

    /// Normalises and range-checks `±0.digits × 10^(exponent+1)`.
    fn from_parts(
        negative: bool,
        mut digits: Vec<u8>,
        exponent: i64,
    ) -> Result<Number, NumberError> {
        let lead = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..lead);
        let exponent = exponent - lead as i64;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::Precision);
        }
        if exponent > i64::from(MAX_EXPONENT) {
            return Err(NumberError::Overflow);
        }
        if exponent < i64::from(MIN_EXPONENT) {
            return Err(NumberError::Underflow);
        }
        Ok(Number {
            negative,
            digits,
            exponent: exponent as i32,
        })
    }

    /// Rebuilds a number from stored parts; `None` if they are not
    /// normalised, which only corrupt data can cause.
    pub(crate) fn from_stored(negative: bool, digits: Vec<u8>, exponent: i32) -> Option<Number> {
        let valid = digits.iter().all(|d| *d < 10)
            && digits.first() != Some(&0)
            && digits.last() != Some(&0)
            && digits.len() <= MAX_DIGITS
            && (MIN_EXPONENT..=MAX_EXPONENT).contains(&exponent);
        match (valid, digits.is_empty()) {
            (true, true) => Some(Number::zero()),
            (true, false) => Some(Number {
                negative,
                digits,
                exponent,
            }),
            (false, _) => None,
        }
    }

    /// Exact sum, failing as DynamoDB does when the result leaves the range.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        let low = |n: &Number| n.exponent as i64 - n.digits.len() as i64 + 1;
        let lowest = low(self).min(low(other));
        let highest = i64::from(self.exponent.max(other.exponent));
        let width = (highest - lowest + 2) as usize;
        // Little-endian digit vectors aligned at `lowest`.
        let align = |n: &Number| {
            let mut v = vec![0i16; width];
            let shift = (low(n) - lowest) as usize;
            for (k, d) in n.digits.iter().rev().enumerate() {
                v[shift + k] = i16::from(*d);
            }
            v
        };
        let a = align(self);
        let b = align(other);
        let (negative, mag) = if self.negative == other.negative {
            let mut out = vec![0i16; width];
            let mut carry = 0;
            for k in 0..width {
                let s = a[k] + b[k] + carry;
                out[k] = s % 10;
                carry = s / 10;
            }
            (self.negative, out)
        } else {
            let (big, small, neg) = match cmp_le(&a, &b) {
                Ordering::Less => (&b, &a, other.negative),
                Ordering::Greater => (&a, &b, self.negative),
                Ordering::Equal => return Ok(Number::zero()),
            };
            let mut out = vec![0i16; width];
            let mut borrow = 0;
            for k in 0..width {
                let mut s = big[k] - small[k] - borrow;
                borrow = 0;
                if s < 0 {
                    s += 10;
                    borrow = 1;
                }
                out[k] = s;
            }
            (neg, out)
        };
        let digits: Vec<u8> = mag.iter().rev().map(|&d| d as u8).collect();
        // Most significant position of the vector is lowest + width - 1.
        Number::from_parts(negative, digits, lowest + width as i64 - 1)
    }

    pub fn negate(&self) -> Number {
        let mut n = self.clone();
        if !n.is_zero() {
            n.negative = !n.negative;
        }
        n
    }

    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.negate())
    }

    /// Approximate value, for callers that need a float (JSON output).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(0.0)
    }

    /// The value as an integer when it is one and fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.is_zero() {
            return Some(0);
        }
        if self.exponent < 0 || (self.digits.len() as i32) > self.exponent + 1 || self.exponent > 18
        {
            return None;
        }
        self.to_string().parse().ok()
    }

    /// Sortable, prefix-free bytes: numeric order equals byte order.
    pub fn encode_sortable(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(0x02);
            return;
        }
        let exp = (self.exponent - MIN_EXPONENT) as u8;
        if self.negative {
            out.push(0x01);
            out.push(255 - exp);
            out.extend(self.digits.iter().map(|d| 10 - d));
            out.push(0xFF);
        } else {
            out.push(0x03);
            out.push(exp);
            out.extend(self.digits.iter().map(|d| d + 1));
            out.push(0x00);
        }
    }
}

fn cmp_le(a: &[i16], b: &[i16]) -> Ordering {
    for k in (0..a.len()).rev() {
        match a[k].cmp(&b[k]) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    Ordering::Equal
}

impl std::str::FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        // Integers always parse.
        Number::parse(&v.to_string()).unwrap_or_else(|_| Number::zero())
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                1
            } else if n.negative {
                0
            } else {
                2
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {}
            o => return o,
        }
        if self.is_zero() {
            return Ordering::Equal;
        }
        let mag = self
            .exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits));
        if self.negative { mag.reverse() } else { mag }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl fmt::Display for Number {
    /// Plain notation, as DynamoDB returns numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut s = String::with_capacity(self.digits.len() + 4);
        if self.negative {
            s.push('-');
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let len = self.digits.len() as i32;
        if self.exponent < 0 {
            s.push_str("0.");
            for _ in 0..(-self.exponent - 1) {
                s.push('0');
            }
            s.push_str(&digits);
        } else if self.exponent >= len - 1 {
            s.push_str(&digits);
            for _ in 0..(self.exponent - (len - 1)) {
                s.push('0');
            }
        } else {
            let split = (self.exponent + 1) as usize;
            s.push_str(&digits[..split]);
            s.push('.');
            s.push_str(&digits[split..]);
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn normalises_like_dynamodb() {
        for (input, want) in [
            ("1.50", "1.5"),
            ("-0", "0"),
            ("0.000", "0"),
            ("007", "7"),
            ("1e2", "100"),
            ("1.5E-3", "0.0015"),
            ("+12.0", "12"),
            ("-123.456", "-123.456"),
            (".5", "0.5"),
            ("5.", "5"),
        ] {
            assert_eq!(n(input).to_string(), want, "{input}");
        }
    }

    #[test]
    fn rejects_invalid_and_out_of_range() {
        for bad in [
            "", "abc", "1e", "--1", "1.2.3", " 1", "NaN", "Infinity", "1e+",
        ] {
            assert_eq!(
                Number::parse(bad),
                Err(NumberError::NotNumeric(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(Number::parse("1e126"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("1e-131"), Err(NumberError::Underflow));
        assert!(Number::parse("9.9999999999999999999999999999999999999e125").is_ok());
        assert!(Number::parse("1e-130").is_ok());
        assert_eq!(
            Number::parse("123456789012345678901234567890123456789"),
            Err(NumberError::Precision)
        );
    }

    #[test]
    fn orders_and_encodes_numerically() {
        let values = [
            "-1e10", "-100", "-1.5", "-1", "-0.001", "0", "0.001", "1", "1.5", "2", "10", "100",
            "1e100",
        ];
        let nums: Vec<Number> = values.iter().map(|s| n(s)).collect();
        for w in nums.windows(2) {
            assert!(w[0] < w[1], "{} < {}", w[0], w[1]);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            w[0].encode_sortable(&mut a);
            w[1].encode_sortable(&mut b);
            assert!(a < b, "encoding {} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn adds_exactly() {
        assert_eq!(n("1.1").add(&n("2.2")).unwrap().to_string(), "3.3");
        assert_eq!(n("1").sub(&n("1.5")).unwrap().to_string(), "-0.5");
        assert_eq!(n("99").add(&n("1")).unwrap().to_string(), "100");
        assert_eq!(n("-5").add(&n("5")).unwrap().to_string(), "0");
        assert_eq!(n("1e-5").add(&n("-3")).unwrap().to_string(), "-2.99999");
        assert_eq!(n("1e100").add(&n("1e-100")), Err(NumberError::Precision));
        assert_eq!(n("9e125").add(&n("1e125")), Err(NumberError::Overflow));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn order_and_encoding_agree_with_integers(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000, sa in 0u32..6, sb in 0u32..6) {
            // Scaled integers cover decimals: a / 10^sa.
            let na = Number::parse(&format!("{a}e-{sa}")).unwrap();
            let nb = Number::parse(&format!("{b}e-{sb}")).unwrap();
            let exact = (i128::from(a) * 10i128.pow(5 - sa)).cmp(&(i128::from(b) * 10i128.pow(5 - sb)));
            prop_assert_eq!(na.cmp(&nb), exact);
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            na.encode_sortable(&mut ea);
            nb.encode_sortable(&mut eb);
            prop_assert_eq!(ea.cmp(&eb), exact);
            let sum = i128::from(a) * 10i128.pow(5 - sa) + i128::from(b) * 10i128.pow(5 - sb);
            let want = Number::parse(&format!("{sum}e-5")).unwrap();
            prop_assert_eq!(na.add(&nb).unwrap(), want.clone());
            prop_assert_eq!(want.sub(&nb).unwrap(), na.clone());
            prop_assert_eq!(Number::parse(&na.to_string()).unwrap(), na);
        }
    }
}
