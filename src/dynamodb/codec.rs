//! Compact binary encoding of stored items. Decoding JSON dominated reads,
//! so items are kept in a tag-length format instead.

use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::{AttributeValue, Item, Number};

/// Leading byte of every stored item, so the format can evolve.
const FORMAT: u8 = 1;

pub fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.push(FORMAT);
    write_map(item, &mut out);
    out
}

pub fn decode_item(bytes: &[u8]) -> Result<Item> {
    let mut r = Reader { bytes, pos: 0 };
    if r.byte()? != FORMAT {
        return Err(corrupt());
    }
    let item = r.map()?;
    if r.pos != bytes.len() {
        return Err(corrupt());
    }
    Ok(item)
}

fn corrupt() -> Error {
    Error::Internal("corrupt stored item".into())
}

fn write_len(n: usize, out: &mut Vec<u8>) {
    let mut n = n as u64;
    loop {
        let b = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    write_len(b.len(), out);
    out.extend_from_slice(b);
}

fn write_number(n: &Number, out: &mut Vec<u8>) {
    out.push(u8::from(n.is_negative()));
    out.extend_from_slice(&(n.exponent() as i16).to_le_bytes());
    write_bytes(n.digits(), out);
}

fn write_map(m: &Item, out: &mut Vec<u8>) {
    write_len(m.len(), out);
    for (k, v) in m {
        write_bytes(k.as_bytes(), out);
        write_value(v, out);
    }
}

fn write_value(v: &AttributeValue, out: &mut Vec<u8>) {
    match v {
        AttributeValue::S(s) => {
            out.push(0);
            write_bytes(s.as_bytes(), out);
        }
        AttributeValue::N(n) => {
            out.push(1);
            write_number(n, out);
        }
        AttributeValue::B(b) => {
            out.push(2);
            write_bytes(b, out);
        }
        AttributeValue::Bool(false) => out.push(3),
        AttributeValue::Bool(true) => out.push(4),
        AttributeValue::Null => out.push(5),
        AttributeValue::L(l) => {
            out.push(6);
            write_len(l.len(), out);
            for e in l {
                write_value(e, out);
            }
        }
        AttributeValue::M(m) => {
            out.push(7);
            write_map(m, out);
        }
        AttributeValue::Ss(v) => {
            out.push(8);
            write_len(v.len(), out);
            for s in v {
                write_bytes(s.as_bytes(), out);
            }
        }
        AttributeValue::Ns(v) => {
            out.push(9);
            write_len(v.len(), out);
            for n in v {
                write_number(n, out);
            }
        }
        AttributeValue::Bs(v) => {
            out.push(10);
            write_len(v.len(), out);
            for b in v {
                write_bytes(b, out);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.pos).ok_or_else(corrupt)?;
        self.pos += 1;
        Ok(b)
    }

    fn len(&mut self) -> Result<usize> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return usize::try_from(n).map_err(|_| corrupt());
            }
        }
        Err(corrupt())
    }

    fn slice(&mut self) -> Result<&'a [u8]> {
        let n = self.len()?;
        let end = self.pos.checked_add(n).ok_or_else(corrupt)?;
        let s = self.bytes.get(self.pos..end).ok_or_else(corrupt)?;
        self.pos = end;
        Ok(s)
    }

    fn string(&mut self) -> Result<String> {
        String::from_utf8(self.slice()?.to_vec()).map_err(|_| corrupt())
    }

    fn number(&mut self) -> Result<Number> {
        let negative = self.byte()? == 1;
        let exp = i16::from_le_bytes([self.byte()?, self.byte()?]);
        let digits = self.slice()?.to_vec();
        Number::from_stored(negative, digits, i32::from(exp)).ok_or_else(corrupt)
    }

    fn map(&mut self) -> Result<Item> {
        let n = self.len()?;
        let mut m = Item::new();
        for _ in 0..n {
            let k = self.string()?;
            let v = self.value()?;
            m.insert(k, v);
        }
        Ok(m)
    }

    fn count(&mut self) -> Result<usize> {
        let n = self.len()?;
        // Every element takes at least one byte.
        if n > self.bytes.len() - self.pos {
            return Err(corrupt());
        }
        Ok(n)
    }

    fn value(&mut self) -> Result<AttributeValue> {
        Ok(match self.byte()? {
            0 => AttributeValue::S(self.string()?),
            1 => AttributeValue::N(self.number()?),
            2 => AttributeValue::B(self.slice()?.to_vec()),
            3 => AttributeValue::Bool(false),
            4 => AttributeValue::Bool(true),
            5 => AttributeValue::Null,
            6 => {
                let n = self.count()?;
                AttributeValue::L((0..n).map(|_| self.value()).collect::<Result<_>>()?)
            }
            7 => AttributeValue::M(self.map()?),
            8 => {
                let n = self.count()?;
                AttributeValue::Ss((0..n).map(|_| self.string()).collect::<Result<_>>()?)
            }
            9 => {
                let n = self.count()?;
                AttributeValue::Ns((0..n).map(|_| self.number()).collect::<Result<_>>()?)
            }
            10 => {
                let n = self.count()?;
                AttributeValue::Bs(
                    (0..n)
                        .map(|_| self.slice().map(<[u8]>::to_vec))
                        .collect::<Result<_>>()?,
                )
            }
            _ => return Err(corrupt()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_type_and_rejects_garbage() {
        let item: Item = serde_json::from_value(serde_json::json!({
            "a": {"S": "x"}, "b": {"N": "-1.5e-3"}, "c": {"B": "AAE="}, "d": {"BOOL": true},
            "e": {"NULL": true}, "f": {"L": [{"S": "y"}, {"BOOL": false}]}, "g": {"M": {"h": {"N": "0"}}},
            "i": {"SS": ["p", "q"]}, "j": {"NS": ["1", "1e100"]}, "k": {"BS": ["AA=="]}
        }))
        .unwrap();
        let bytes = encode_item(&item);
        assert_eq!(decode_item(&bytes).unwrap(), item);
        for cut in 0..bytes.len() {
            assert!(decode_item(&bytes[..cut]).is_err());
        }
        assert!(decode_item(&[FORMAT, 1, 1, b'a', 99]).is_err());
    }
}
