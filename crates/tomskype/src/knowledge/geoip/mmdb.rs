//! Knowledge, GeoIP: the one check of an mmdb file that `GeoIp` makes beyond the `maxminddb`
//! reader's, and the date of its `build_epoch`.
//!
//! The reader (0.32) guarantees, when it opens a file, what its lookups rely on: it refuses a
//! missing or undecodable metadata section, a format version other than 2, an IP version
//! other than 4 or 6, a record size other than 24, 28 or 32, an empty tree, a `build_epoch` no
//! `SystemTime` can hold, and a search tree that with its 16-byte separator does not fit
//! before the metadata (0.28.1, 0.29). Every tree read is then in bounds. A tree record that is
//! neither a node nor a pointer into the data section, a cyclic tree, malformed data and data
//! that expands without bound make a lookup or an iteration return an error, never panic
//! (0.28.0 to 0.31, by their changelog and the code). With 0.27 a truncated tree or a record just above
//! `node_count` made it panic, which the checks this file used to make (a second parse of the
//! metadata, the tree's size, the IP version, the node count) were there to prevent.
//!
//! What is left is not a guard against panics but a choice: the reader reports a bad tree
//! record only when a lookup reaches it, and [`GeoIp::country`](super::GeoIp::country) would
//! turn that into "no country" for some addresses without a word. [`check_search_tree`] reads
//! every record of an untrusted file's tree once, when it is opened, so that such a file is
//! refused with an error naming it. One linear pass: about 37 M instructions for the 1.3 M
//! nodes of the embedded database's tree, where walking the tree with the reader's
//! `networks()` costs about 330 M, and `Reader::verify` refuses ip-location-db builds (their
//! `description` map is empty).

use maxminddb::Metadata;

/// The marker that starts an mmdb's metadata section.
pub(super) const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

/// Checks every record of the search tree of `bytes`, which a `maxminddb::Reader` has opened
/// and described with `meta` (so the tree and its separator are known to fit before the
/// metadata marker): each record must be a node number, the "no data" value `node_count`, or
/// a pointer into the data section.
pub(super) fn check_search_tree(bytes: &[u8], meta: &Metadata) -> Result<(), String> {
    let node_bytes = usize::from(meta.record_size) / 4;
    let tree = usize::try_from(meta.node_count)
        .ok()
        .and_then(|n| n.checked_mul(node_bytes));
    let marker = bytes
        .windows(METADATA_MARKER.len())
        .rposition(|w| w == METADATA_MARKER);
    // The reader opened these bytes, so the tree, the 16-byte separator and the marker come in
    // that order; the checked arithmetic only keeps an impossible case from slicing out of range.
    let parts = tree.zip(marker).and_then(|(tree, marker)| {
        Some((
            bytes.get(..tree)?,
            marker.checked_sub(tree.checked_add(16)?)?,
        ))
    });
    let Some((nodes, data_len)) = parts else {
        return Err("the search tree does not fit before the metadata".to_string());
    };
    check_tree_records(nodes, meta.node_count, meta.record_size, data_len as u64)
}

/// Checks every record of the search tree `nodes`: a node number, the "no data" value
/// `node_count`, or a pointer into the data section of `data_len` bytes (`node_count + 16` and
/// up; the 16 are the separator's).
fn check_tree_records(
    nodes: &[u8],
    node_count: u32,
    record_size: u16,
    data_len: u64,
) -> Result<(), String> {
    let node_bytes = usize::from(record_size) / 4;
    let node_count = u64::from(node_count);
    for (number, node) in nodes.chunks_exact(node_bytes).enumerate() {
        let be = |b: &[u8]| b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
        // `node` has exactly `node_bytes` (6, 7 or 8: the reader refuses a record size other
        // than 24, 28 or 32) bytes, so every range below is in bounds.
        let (left, right) = match record_size {
            24 => (be(&node[0..3]), be(&node[3..6])),
            28 => (
                u64::from(node[3] >> 4) << 24 | be(&node[0..3]),
                u64::from(node[3] & 0x0f) << 24 | be(&node[4..7]),
            ),
            _ => (be(&node[0..4]), be(&node[4..8])),
        };
        for value in [left, right] {
            if value > node_count
                && (value < node_count + 16 || value - node_count - 16 >= data_len)
            {
                return Err(format!(
                    "search tree node {number} has record {value}, which is neither a node \
                     nor a pointer into the data section"
                ));
            }
        }
    }
    Ok(())
}

/// "YYYY-MM-DD" (UTC) for seconds since 1970.
pub(super) fn date_from_epoch(epoch: u64) -> String {
    crate::timefmt::date(i64::try_from(epoch).unwrap_or(i64::MAX))
}

/// A tiny mmdb writer for hand-made test databases: one IPv4 tree node, whose left record
/// (0.0.0.0/1) points to `left` and right record (128.0.0.0/1) to `right`.
#[cfg(test)]
pub(super) mod test_writer {
    use super::METADATA_MARKER;

    pub(in crate::knowledge::geoip) fn string(s: &str) -> Vec<u8> {
        assert!(s.len() < 29);
        let mut out = vec![0x40 | s.len() as u8];
        out.extend_from_slice(s.as_bytes());
        out
    }
    pub(in crate::knowledge::geoip) fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0xe0 | entries.len() as u8];
        for (key, value) in entries {
            out.extend(string(key));
            out.extend_from_slice(value);
        }
        out
    }
    fn uint16(v: u16) -> Vec<u8> {
        let mut out = vec![0xa2];
        out.extend_from_slice(&v.to_be_bytes());
        out
    }
    pub(in crate::knowledge::geoip) fn tiny_mmdb(
        database_type: &str,
        node_count: u32,
        left: &[u8],
        right: &[u8],
    ) -> Vec<u8> {
        // Tree records: pointer = node_count + 16 + offset into the data section.
        let rec = |offset: usize| ((1 + 16 + offset) as u32).to_be_bytes();
        let mut out = Vec::new();
        out.extend_from_slice(&rec(0)[1..]);
        out.extend_from_slice(&rec(left.len())[1..]);
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(left);
        out.extend_from_slice(right);
        out.extend_from_slice(METADATA_MARKER);
        let mut epoch = vec![0x08, 0x02];
        epoch.extend_from_slice(&1_700_000_000u64.to_be_bytes());
        let mut nodes = vec![0xc4];
        nodes.extend_from_slice(&node_count.to_be_bytes());
        out.extend(map(&[
            ("binary_format_major_version", uint16(2)),
            ("binary_format_minor_version", uint16(0)),
            ("build_epoch", epoch),
            ("database_type", string(database_type)),
            ("description", map(&[])),
            ("ip_version", uint16(4)),
            ("languages", vec![0x00, 0x04]),
            ("node_count", nodes),
            ("record_size", uint16(24)),
        ]));
        out
    }
    pub(in crate::knowledge::geoip) fn iso(code: &str) -> Vec<u8> {
        map(&[("iso_code", string(code))])
    }
}

#[cfg(test)]
mod tests {
    use super::test_writer::{map, string, tiny_mmdb};
    use super::*;

    #[test]
    fn a_well_formed_tiny_database_passes() {
        let data = map(&[("country_code", string("CN"))]);
        let bytes = tiny_mmdb("T", 1, &data, &data);
        match maxminddb::Reader::from_source(&bytes[..]) {
            Ok(reader) => assert_eq!(check_search_tree(&bytes, reader.metadata()), Ok(())),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn records_of_every_size_are_checked() {
        // Node 0 of a one-node tree; data section of 10 bytes; valid values: 0..=1, 17..=26.
        let node24 = [0, 0, 1, 0, 0, 26];
        assert!(check_tree_records(&node24, 1, 24, 10).is_ok());
        let node24_bad = [0, 0, 1, 0, 0, 27];
        assert!(check_tree_records(&node24_bad, 1, 24, 10).is_err());
        // 28 bits: the middle byte holds the high nibbles of both records.
        let node28 = [0, 0, 17, 0x00, 0, 0, 1];
        assert!(check_tree_records(&node28, 1, 28, 10).is_ok());
        let node28_bad = [0, 0, 17, 0x10, 0, 0, 1];
        let err = check_tree_records(&node28_bad, 1, 28, 10)
            .err()
            .unwrap_or_default();
        assert!(err.contains("record 16777233"), "{err}");
        let node32 = [0, 0, 0, 0, 0, 0, 0, 18];
        assert!(check_tree_records(&node32, 1, 32, 10).is_ok());
        let node32_bad = [0, 0, 0, 2, 0, 0, 0, 18];
        assert!(check_tree_records(&node32_bad, 1, 32, 10).is_err());
    }

    #[test]
    fn dates_from_epochs() {
        assert_eq!(date_from_epoch(0), "1970-01-01");
        assert_eq!(date_from_epoch(951_782_400), "2000-02-29");
        assert_eq!(date_from_epoch(951_868_799), "2000-02-29");
        assert_eq!(date_from_epoch(951_868_800), "2000-03-01");
        assert_eq!(date_from_epoch(1_781_725_900), "2026-06-17");
        assert_eq!(date_from_epoch(4_102_444_800), "2100-01-01");
    }
}
