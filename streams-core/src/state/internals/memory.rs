//! The in-memory backend.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::error::Result;
use crate::state::internals::bytes_store::{BatchOp, BytesStore, Visitor};

#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl BytesStore for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.map.get(key).cloned())
    }

    fn write_batch(&mut self, ops: &[BatchOp<'_>]) -> Result<()> {
        for (k, v) in ops {
            match v {
                Some(v) => {
                    self.map.insert(k.to_vec(), v.to_vec());
                }
                None => {
                    self.map.remove(*k);
                }
            }
        }
        Ok(())
    }

    fn scan(&self, from: Option<&[u8]>, to: Option<&[u8]>, visit: &mut Visitor<'_>) -> Result<()> {
        let lo = from.map_or(Bound::Unbounded, Bound::Included);
        let hi = to.map_or(Bound::Unbounded, Bound::Excluded);
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Ok(());
            }
        }
        for (k, v) in self.map.range::<[u8], _>((lo, hi)) {
            if !visit(k, v)? {
                break;
            }
        }
        Ok(())
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        Ok(self.map.len() as u64)
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    fn persistent(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_and_scan() {
        let mut s = MemoryStore::default();
        s.write_batch(&[(b"b", Some(b"2")), (b"a", Some(b"1")), (b"c", Some(b"3"))])
            .unwrap();
        s.write_batch(&[(b"c", None)]).unwrap();
        let mut seen = Vec::new();
        s.scan(Some(b"a"), Some(b"c"), &mut |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            Ok(true)
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"2".to_vec())
            ]
        );
        assert_eq!(s.get(b"c").unwrap(), None);
        assert_eq!(s.approximate_num_entries().unwrap(), 2);
    }
}
