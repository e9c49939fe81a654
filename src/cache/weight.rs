//! What an entry really costs in memory, for the cache's weigher: the heap
//! blocks of its key and value as the allocator hands them out, plus the
//! cache's own bookkeeping per entry. Serialized length would undercount a
//! `serde_json::Value` several times over (every string, array and map is a
//! separate allocation with its own header and spare capacity).

use std::mem::size_of;

use serde_json::Value as Json;

/// Bytes moka keeps per entry besides our key and value: the shared key
/// `Arc`, the value entry and its metadata, the access-order and timer
/// wheel nodes, and the hash map slot. Measured with
/// `examples/cache_memory.rs` (a cache that never evicts: process RSS growth
/// per entry minus the heap counted here came to about 390 bytes) and
/// rounded up.
pub const ENTRY_OVERHEAD: usize = 448;

/// The size of the heap block the allocator returns for `requested` bytes:
/// glibc's malloc adds an 8-byte header, rounds to 16 and never hands out
/// less than 32 bytes.
pub fn block(requested: usize) -> usize {
    if requested == 0 {
        0
    } else {
        ((requested + 8 + 15) & !15).max(32)
    }
}

/// The heap held by a string of this capacity.
pub fn string(capacity: usize) -> usize {
    block(capacity)
}

/// The heap held by a JSON value (not counting the value itself, which lives
/// in its parent or in the entry).
pub fn json(value: &Json) -> usize {
    match value {
        Json::String(s) => string(s.capacity()),
        Json::Array(items) => {
            block(items.capacity() * size_of::<Json>()) + items.iter().map(json).sum::<usize>()
        }
        Json::Object(map) => {
            // `serde_json::Map` (an `IndexMap` with `preserve_order`) keeps
            // its capacity private: assume the hash table's capacity for
            // `len` items, which its entry vector grows to match.
            let buckets = hash_buckets(map.len());
            let capacity = buckets / 8 * 7;
            // An entry is the key, the value and the cached hash.
            let entry = size_of::<String>() + size_of::<Json>() + size_of::<usize>();
            // The index table: one `usize` and one control byte per bucket,
            // plus a trailing group of control bytes.
            let table = if map.is_empty() {
                0
            } else {
                block(buckets * (size_of::<usize>() + 1) + 16)
            };
            block(capacity.max(map.len()) * entry)
                + table
                + map
                    .iter()
                    .map(|(k, v)| string(k.capacity()) + json(v))
                    .sum::<usize>()
        }
        Json::Null | Json::Bool(_) | Json::Number(_) => 0,
    }
}

/// hashbrown's bucket count for `items`: at least 4, then a power of two
/// kept at most 7/8 full.
fn hash_buckets(items: usize) -> usize {
    match items {
        0 => 0,
        1..=3 => 4,
        4..=7 => 8,
        n => (n * 8).div_ceil(7).next_power_of_two(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn blocks_follow_glibc_sizes() {
        assert_eq!(block(0), 0);
        assert_eq!(block(1), 32);
        assert_eq!(block(24), 32);
        assert_eq!(block(25), 48);
        assert_eq!(block(100), 112);
    }

    #[test]
    fn nested_values_count_every_allocation() {
        assert_eq!(json(&json!(null)), 0);
        assert_eq!(json(&json!("abc")), 32);
        // An object holds its entries, its index table and each key and
        // string value: far more than its 15 serialized bytes.
        let object = json!({"id": "1"});
        assert!(json(&object) > 100, "{}", json(&object));
        let nested = json!({"items": [object.clone(), object.clone()]});
        assert!(json(&nested) > 2 * json(&object));
        assert_eq!(hash_buckets(8), 16);
        assert_eq!(hash_buckets(14), 16);
        assert_eq!(hash_buckets(15), 32);
    }
}
