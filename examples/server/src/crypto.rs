//! The server's master key (256 bits, from `GDAP_ENCRYPTION_KEY` or a key file created `0600` on
//! first start) and what it is used for:
//!
//! - encryption at rest of the partner refresh token: ChaCha20-Poly1305 (AEAD) under the key;
//! - the Partner Center webhook path key: `hex(HMAC-SHA256(master key,
//!   "gdap-server/partner-center-webhook/v1"))`, the unguessable last segment of
//!   `/webhooks/partner-center/{key}`. Derived, never stored: the same master key gives the same
//!   callback URL after a restart; a new master key gives a new one (register it again).

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Version byte of the ciphertext layout: `1 || nonce(12) || ciphertext+tag`.
const VERSION: u8 = 1;
/// Associated data: binds a ciphertext to its purpose.
const AAD: &[u8] = b"gdap-server/partner-refresh-token/v1";
/// HMAC label of the webhook path key: binds the derived value to its purpose.
const WEBHOOK_KEY_LABEL: &[u8] = b"gdap-server/partner-center-webhook/v1";

/// Where the key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// Base64 of 32 bytes (e.g. from `GDAP_ENCRYPTION_KEY`).
    Inline(SecretString),
    /// A file holding base64 of 32 bytes; created with mode `0600` when missing.
    File(std::path::PathBuf),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Inline(_) => f.write_str("Inline([redacted])"),
            KeySource::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// The AEAD sealing the refresh token, and the values derived from the same master key.
#[derive(Clone)]
pub(crate) struct Sealer {
    cipher: ChaCha20Poly1305,
    webhook_key: SecretString,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer").finish_non_exhaustive()
    }
}

impl Sealer {
    /// Loads (or creates) the key.
    pub(crate) fn load(source: &KeySource) -> anyhow::Result<Self> {
        let text = match source {
            KeySource::Inline(s) => s.expose_secret().trim().to_owned(),
            KeySource::File(path) => load_or_create_key_file(path)?,
        };
        let bytes = STANDARD
            .decode(text.as_bytes())
            .map_err(|_| anyhow::anyhow!("the encryption key is not valid base64"))?;
        if bytes.len() != 32 {
            anyhow::bail!(
                "the encryption key must be 32 bytes (base64 of 32 random bytes), got {}",
                bytes.len()
            );
        }
        Ok(Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
            webhook_key: SecretString::from(hex::encode(hmac_sha256(&bytes, WEBHOOK_KEY_LABEL))),
        })
    }

    /// The Partner Center webhook path key: 64 hex digits, HMAC-SHA256 of a fixed label under the
    /// master key (see the module docs).
    pub(crate) fn webhook_key(&self) -> &SecretString {
        &self.webhook_key
    }

    /// Encrypts `plain` with a fresh random nonce.
    pub(crate) fn seal(&self, plain: &SecretString) -> anyhow::Result<Vec<u8>> {
        let nonce_bytes: [u8; 12] = rand::random();
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce_bytes),
                Payload {
                    msg: plain.expose_secret().as_bytes(),
                    aad: AAD,
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = Vec::with_capacity(1 + 12 + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`Sealer::seal`] made; fails on a wrong key or a tampered value.
    pub(crate) fn open(&self, sealed: &[u8]) -> anyhow::Result<SecretString> {
        if sealed.len() < 1 + 12 + 16 || sealed[0] != VERSION {
            anyhow::bail!("the stored refresh token has an unknown format");
        }
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(&sealed[1..13]),
                Payload {
                    msg: &sealed[13..],
                    aad: AAD,
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "cannot decrypt the stored refresh token (wrong encryption key?); reconnect Partner Center"
                )
            })?;
        let text = String::from_utf8(plain)
            .map_err(|_| anyhow::anyhow!("the stored refresh token is not text"))?;
        Ok(SecretString::from(text))
    }
}

/// HMAC-SHA256 (RFC 2104) over `sha2`: the workspace has no `hmac` crate, and this is its whole
/// algorithm for a 64-byte block hash.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn load_or_create_key_file(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => {
            check_mode(path);
            Ok(s)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            let text = STANDARD.encode(key);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                opts.mode(0o600);
            }
            let mut f = opts
                .open(path)
                .map_err(|e| anyhow::anyhow!("cannot create key file {}: {e}", path.display()))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "created a new encryption key file (mode 0600)");
            Ok(text)
        }
        Err(e) => Err(anyhow::anyhow!(
            "cannot read key file {}: {e}",
            path.display()
        )),
    }
}

fn check_mode(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(m) = std::fs::metadata(path)
            && m.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the encryption key file is readable by group or others; chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let s = Sealer::load(&KeySource::File(path.clone())).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let sealed = s.seal(&SecretString::from("canary-rt")).unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"canary-rt"));
        assert_eq!(s.open(&sealed).unwrap().expose_secret(), "canary-rt");
        let again = Sealer::load(&KeySource::File(path)).unwrap();
        assert_eq!(again.open(&sealed).unwrap().expose_secret(), "canary-rt");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(s.open(&bad).is_err());
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 (short key) and test case 6 (key longer than the block).
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn webhook_key_is_derived_from_the_master_key() {
        let a = |k: &str| {
            Sealer::load(&KeySource::Inline(SecretString::from(k.to_owned())))
                .unwrap()
                .webhook_key()
                .expose_secret()
                .to_owned()
        };
        let one = a("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
        assert_eq!(one.len(), 64);
        assert!(one.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(one, a("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="));
        assert_ne!(one, a("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="));
    }
}
