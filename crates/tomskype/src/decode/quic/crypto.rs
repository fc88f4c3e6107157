//! Stage 2, decode: the keys that protect QUIC Initial packets, and their two uses.
//!
//! Initial packets are encrypted, but with keys anyone can derive from the client's first
//! Destination Connection ID (RFC 9001 §5.2; RFC 9369 §3.3 for QUIC v2): HKDF-Extract with the
//! version's salt, then HKDF-Expand-Label for the client's (or server's) secret and from it the
//! AEAD key, IV and header-protection key. Header protection is AES-128 in ECB mode over a
//! 16-byte sample of the ciphertext (RFC 9001 §5.4.3); the payload is AES-128-GCM (§5.3).
//! Everything here is RustCrypto (`hkdf`, `sha2`, `aes`, `aes-gcm`); nothing is hand-written.
//!
//! [`Keys::seal`] (the encrypting direction) exists for the tests and the sample generator.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;

use super::Version;

/// Which end's keys: a client's Initial packets use the client's, a server's the server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The end that sent the first Initial packet.
    Client,
    /// The end that answers.
    Server,
}

/// Length of the sample of ciphertext that header protection encrypts.
pub const SAMPLE_LEN: usize = 16;
/// Length of the AEAD tag at the end of every protected payload.
pub const TAG_LEN: usize = 16;

/// The packet protection keys of one side of one connection's Initial packets.
#[derive(Clone)]
pub struct Keys {
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: Aes128,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

/// The raw key material, for the RFC test vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Material {
    /// AEAD key.
    pub key: [u8; 16],
    /// AEAD IV.
    pub iv: [u8; 12],
    /// Header-protection key.
    pub hp: [u8; 16],
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, into `out` (at most 255 bytes).
fn expand_label(prk: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) -> Option<()> {
    let len = u16::try_from(out.len()).ok()?;
    let full_len = u8::try_from(6 + label.len()).ok()?;
    let mut info = Vec::with_capacity(4 + 6 + label.len());
    info.extend_from_slice(&len.to_be_bytes());
    info.push(full_len);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(0); // empty context
    prk.expand(&info, out).ok()
}

/// The key material of `side` for a connection whose client first sent `dcid`.
pub fn material(version: Version, dcid: &[u8], side: Side) -> Option<Material> {
    let (initial, _) = Hkdf::<Sha256>::extract(Some(version.salt()), dcid);
    let initial = Hkdf::<Sha256>::from_prk(&initial).ok()?;
    let mut secret = [0u8; 32];
    let label: &[u8] = match side {
        Side::Client => b"client in",
        Side::Server => b"server in",
    };
    expand_label(&initial, label, &mut secret)?;
    let secret = Hkdf::<Sha256>::from_prk(&secret).ok()?;
    let [key_label, iv_label, hp_label] = version.labels();
    let mut m = Material {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&secret, key_label, &mut m.key)?;
    expand_label(&secret, iv_label, &mut m.iv)?;
    expand_label(&secret, hp_label, &mut m.hp)?;
    Some(m)
}

impl Keys {
    /// The keys of `side` for a connection whose client first sent `dcid`.
    pub fn new(version: Version, dcid: &[u8], side: Side) -> Option<Keys> {
        let m = material(version, dcid, side)?;
        Some(Keys {
            aead: Aes128Gcm::new_from_slice(&m.key).ok()?,
            iv: m.iv,
            hp: Aes128::new_from_slice(&m.hp).ok()?,
        })
    }

    /// The header-protection mask for a 16-byte `sample` of ciphertext (its first 5 bytes are
    /// used).
    pub fn mask(&self, sample: &[u8; SAMPLE_LEN]) -> [u8; SAMPLE_LEN] {
        let mut block = aes::Block::from(*sample);
        self.hp.encrypt_block(&mut block);
        block.into()
    }

    fn nonce(&self, pn: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= p;
        }
        nonce
    }

    /// Decrypts `payload` (ciphertext then tag) in place, authenticated with `header` (the
    /// unprotected header, packet number included); returns the plaintext's length, or `None`
    /// when the tag does not match.
    pub fn open(&self, pn: u64, header: &[u8], payload: &mut [u8]) -> Option<usize> {
        let body_len = payload.len().checked_sub(TAG_LEN)?;
        let (body, tag) = payload.split_at_mut(body_len);
        let tag = Tag::clone_from_slice(tag);
        let nonce = self.nonce(pn);
        self.aead
            .decrypt_in_place_detached(Nonce::from_slice(&nonce), header, body, &tag)
            .ok()?;
        Some(body_len)
    }

    /// Encrypts `payload` in place and appends the tag (for tests and sample captures).
    pub fn seal(&self, pn: u64, header: &[u8], payload: &mut Vec<u8>) -> Option<()> {
        let nonce = self.nonce(pn);
        let tag = self
            .aead
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), header, payload)
            .ok()?;
        payload.extend_from_slice(&tag);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const DCID: &str = "8394c8f03e515708";

    #[test]
    fn rfc9001_a1_keys() {
        let c = material(Version::V1, &hex(DCID), Side::Client).unwrap();
        assert_eq!(c.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(c.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(c.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
        let s = material(Version::V1, &hex(DCID), Side::Server).unwrap();
        assert_eq!(s.key.to_vec(), hex("cf3a5331653c364c88f0f379b6067e37"));
        assert_eq!(s.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
        assert_eq!(s.hp.to_vec(), hex("c206b8d9b9f0f37644430b490eeaa314"));
    }

    #[test]
    fn rfc9369_a1_keys() {
        let c = material(Version::V2, &hex(DCID), Side::Client).unwrap();
        assert_eq!(c.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(c.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(c.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    }

    #[test]
    fn header_protection_masks() {
        let k = Keys::new(Version::V1, &hex(DCID), Side::Client).unwrap();
        let sample: [u8; 16] = hex("d1b1c98dd7689fb8ec11d242b123dc9b").try_into().unwrap();
        assert_eq!(k.mask(&sample)[..5].to_vec(), hex("437b9aec36"));
        let k = Keys::new(Version::V2, &hex(DCID), Side::Client).unwrap();
        let sample: [u8; 16] = hex("ffe67b6abcdb4298b485dd04de806071").try_into().unwrap();
        assert_eq!(k.mask(&sample)[..5].to_vec(), hex("94a0c95e80"));
    }

    #[test]
    fn seal_then_open_and_tampering() {
        let k = Keys::new(Version::V1, b"abc", Side::Client).unwrap();
        let mut p = b"hello quic".to_vec();
        k.seal(7, b"hdr", &mut p).unwrap();
        assert_eq!(p.len(), 10 + TAG_LEN);
        let mut q = p.clone();
        assert_eq!(k.open(7, b"hdr", &mut q), Some(10));
        assert_eq!(&q[..10], b"hello quic");
        let mut q = p.clone();
        assert_eq!(k.open(8, b"hdr", &mut q), None);
        let mut q = p.clone();
        assert_eq!(k.open(7, b"hdX", &mut q), None);
        assert_eq!(k.open(7, b"hdr", &mut [0u8; 5]), None);
    }
}
