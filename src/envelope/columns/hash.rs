//! Debezium's salted column hash (`MaskStrings.HashValueConverter`): the digest of the salt
//! followed by the value's bytes, written as lower-case hex. Strategy `v1` hashes the value
//! as Java's `ObjectOutputStream.writeObject(String)` writes it (stream header, `TC_STRING`
//! or `TC_LONGSTRING`, the length and the modified UTF-8 bytes); `v2` hashes the plain UTF-8
//! bytes (`String.getBytes()` under Java's default UTF-8).
//!
//! Invariant: the same (algorithm, salt, strategy, value) always gives the hex text
//! Debezium's converter gives; the algorithm names are Java `MessageDigest` names.

use crate::config::shaping::HashVersion;

/// A `MessageDigest` algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Md2,
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl Algorithm {
    /// The algorithm of a Java `MessageDigest` name (any case).
    fn of(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "MD2" => Self::Md2,
            "MD5" => Self::Md5,
            "SHA-1" => Self::Sha1,
            "SHA-224" => Self::Sha224,
            "SHA-256" => Self::Sha256,
            "SHA-384" => Self::Sha384,
            "SHA-512" => Self::Sha512,
            "SHA-512/224" => Self::Sha512_224,
            "SHA-512/256" => Self::Sha512_256,
            "SHA3-224" => Self::Sha3_224,
            "SHA3-256" => Self::Sha3_256,
            "SHA3-384" => Self::Sha3_384,
            "SHA3-512" => Self::Sha3_512,
            _ => return None,
        })
    }
}

fn digest_of<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut d = D::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().to_vec()
}

/// One `column.mask.hash.*` setting: algorithm, salt and strategy.
#[derive(Debug, PartialEq, Eq)]
pub struct Hasher {
    algorithm: Algorithm,
    salt: Vec<u8>,
    version: HashVersion,
}

impl Hasher {
    /// `None` for an algorithm that is not a known `MessageDigest` name.
    pub fn new(algorithm: &str, salt: &str, version: HashVersion) -> Option<Self> {
        Some(Hasher {
            algorithm: Algorithm::of(algorithm)?,
            salt: salt.as_bytes().to_vec(),
            version,
        })
    }

    /// The hex digest of `value` (Debezium's pseudonym before any cut to the column length).
    pub fn hash(&self, value: &str) -> String {
        let data = match self.version {
            HashVersion::V1 => java_serialized(value),
            HashVersion::V2 => value.as_bytes().to_vec(),
        };
        let parts: [&[u8]; 2] = [&self.salt, &data];
        let d = match self.algorithm {
            Algorithm::Md2 => digest_of::<md2::Md2>(&parts),
            Algorithm::Md5 => digest_of::<md5::Md5>(&parts),
            Algorithm::Sha1 => digest_of::<sha1::Sha1>(&parts),
            Algorithm::Sha224 => digest_of::<sha2::Sha224>(&parts),
            Algorithm::Sha256 => digest_of::<sha2::Sha256>(&parts),
            Algorithm::Sha384 => digest_of::<sha2::Sha384>(&parts),
            Algorithm::Sha512 => digest_of::<sha2::Sha512>(&parts),
            Algorithm::Sha512_224 => digest_of::<sha2::Sha512_224>(&parts),
            Algorithm::Sha512_256 => digest_of::<sha2::Sha512_256>(&parts),
            Algorithm::Sha3_224 => digest_of::<sha3::Sha3_224>(&parts),
            Algorithm::Sha3_256 => digest_of::<sha3::Sha3_256>(&parts),
            Algorithm::Sha3_384 => digest_of::<sha3::Sha3_384>(&parts),
            Algorithm::Sha3_512 => digest_of::<sha3::Sha3_512>(&parts),
        };
        hex::encode(d)
    }
}

/// `new ObjectOutputStream(bos).writeObject(s)`: the stream header `AC ED 00 05`, then
/// `TC_STRING` (0x74) with a 2-byte length, or `TC_LONGSTRING` (0x7C) with an 8-byte length
/// when the modified UTF-8 form is longer than 65535 bytes, then that form.
pub fn java_serialized(s: &str) -> Vec<u8> {
    let body = modified_utf8(s);
    let mut out = Vec::with_capacity(body.len() + 13);
    out.extend_from_slice(&[0xAC, 0xED, 0x00, 0x05]);
    if body.len() <= 0xFFFF {
        out.push(0x74);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    } else {
        out.push(0x7C);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    }
    out.extend_from_slice(&body);
    out
}

/// Java's modified UTF-8 (`DataOutput.writeUTF`): per UTF-16 unit, U+0001..U+007F in one
/// byte, U+0000 and up to U+07FF in two, the rest (surrogates one by one) in three.
fn modified_utf8(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for u in s.encode_utf16() {
        let c = u as u32;
        match c {
            0x0001..=0x007F => out.push(c as u8),
            0x0000 | 0x0080..=0x07FF => {
                out.push(0xC0 | (c >> 6) as u8);
                out.push(0x80 | (c & 0x3F) as u8);
            }
            _ => {
                out.push(0xE0 | (c >> 12) as u8);
                out.push(0x80 | ((c >> 6) & 0x3F) as u8);
                out.push(0x80 | (c & 0x3F) as u8);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debezium_test_vectors() {
        // ColumnMappersTest.shouldMaskStringsToMaskHashV1Column / …V2Column (Debezium 3.5).
        let v1 = Hasher::new("SHA-256", "salt123", HashVersion::V1).unwrap();
        assert_eq!(
            v1.hash("12345678901234567890"),
            "5944c66655670e4ce234df8529d452ba1cae10a641b9cd1583abf62585b8515a"
        );
        let v2 = Hasher::new("sha-256", "salt123", HashVersion::V2).unwrap();
        assert_eq!(
            v2.hash("12345678901234567890"),
            "b65875d34a3dedf070f3a012970bf3b5da424560d7be3d2c23b986b525d2d7f3"
        );
    }

    #[test]
    fn java_serialization_framing() {
        assert_eq!(
            java_serialized("ab"),
            [0xAC, 0xED, 0, 5, 0x74, 0, 2, b'a', b'b']
        );
        // U+0000 is two bytes, é two, € three, 😀 a surrogate pair of three bytes each.
        assert_eq!(
            java_serialized("\0é€😀")[4..],
            [
                0x74, 0, 13, 0xC0, 0x80, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xED, 0xA0, 0xBD, 0xED,
                0xB8, 0x80
            ]
        );
        let long = "x".repeat(70_000);
        let s = java_serialized(&long);
        assert_eq!(s[4], 0x7C);
        assert_eq!(s[5..13], 70_000u64.to_be_bytes());
        assert_eq!(s.len(), 13 + 70_000);
    }

    /// Vectors computed independently with Python's hashlib:
    /// `hashlib.new(alg, salt + b"\xac\xed\x00\x05\x74" + len(v).to_bytes(2, "big") + v)`
    /// (v1) and `hashlib.new(alg, salt + v)` (v2), salt `b"CzQMA0cB5K"`, v `"Jürgen"`
    /// in UTF-8 (its modified UTF-8 form is the same bytes); MD2 (not in OpenSSL) with a
    /// pure-Python RFC 1319 implementation checked against the RFC's `"abc"` vector.
    #[test]
    fn every_algorithm_matches_hashlib() {
        for (alg, v1, v2) in VECTORS {
            let h1 = Hasher::new(alg, "CzQMA0cB5K", HashVersion::V1).unwrap();
            let h2 = Hasher::new(alg, "CzQMA0cB5K", HashVersion::V2).unwrap();
            assert_eq!(h1.hash("Jürgen"), *v1, "{alg} v1");
            assert_eq!(h2.hash("Jürgen"), *v2, "{alg} v2");
        }
        assert!(Hasher::new("SHA-999", "s", HashVersion::V1).is_none());
    }

    const VECTORS: &[(&str, &str, &str)] = &[
        ("MD2", "990707ac1de3e8802bbabc4a8f123cd3", "0725298c3aa7834e96300bf20d3a70b3"),
        ("MD5", "a05f691bbfb8ca2ce7773df3a6bd372c", "503ccd5b332fec9c836e901d58bfb311"),
        ("SHA-1", "8b8e44e776e5b837baf470ead3c11b6dc512ea09", "8183b2d11497b199f99f63c312b48c27ff0346b7"),
        ("SHA-224", "32ec9e2077d6eff8a03554ccd611f65ed43b8148daa99666c053d3ef", "bf219b59873cfbc2393b0197117f182890b2d158af9ef7dce28c0c8b"),
        ("SHA-256", "893a7b90f20f9f2e6f8230fbdca1506c07371e5c2849548266434d265db86482", "e06df98a7ca9140f943698e465b03d5da2562dd1efda82de285f333cbe0b341c"),
        ("SHA-384", "84f264aa3812c1c7da6d3948f4a52e14ccd8aea02f273863a9e26bc6567a20d3793b5f81caf7cddfbe00b6758e428753", "eb6579aa64d0d29ebf261fd8d89febe51bda943ada6c9dedc47f305c93a62deddd2d362c4ce8294f12bf92f3150cb6f4"),
        ("SHA-512", "9ff4b063d1c30b6cedc4a3d05530a6bd11ca42de34403b7d201a3d4b9c9699a4df066f9f9d3552f0b4bebdbc2b6a6531c132f990a774ad6257f1e5781b7add15", "2ae7acf89ed6c72f7980fbaf24f4e12b4ce19cc2f66120447f41e10a908cff74bb1e8369eda26ff118a582b4b03d0a3ff52ef7ed80f812024bfaefdf01813d56"),
        ("SHA-512/224", "2eb4a017e89a2f55374e4f0d206b3ec7b35c04d6e71ad6b5b721e4e9", "6055e960534ae6d8629e28583c79809541cb7808728483d289d0b780"),
        ("SHA-512/256", "5213d7d636838a50dfa10798c99fe37668fe3c43040932977d779bf199940df1", "7e9ece26df8144c5f6fbc1fbb18aa84faac528c92c27b57ad7005bb541393878"),
        ("SHA3-224", "d165a33df6f374a78d969ad12345f9e399eaf18056f0ce35bba5d4fa", "4f8d789086a5bcd57848e2a7032fdb97bb4c15e61650713b3ed12632"),
        ("SHA3-256", "ef21e496cfd093b561e5eb8b862171d3fe1f7aeca455cd969a7766a89b6ce1de", "0dd41ab1da27533ad01be6954bf85e7c21d7a7a63d8c99558d4d9d463e84058b"),
        ("SHA3-384", "340959e29725e917503adc5c4e3441da33f792d5128c03c5493340b6c052c5477ea3e3358b50062b8a607573736c65e3", "f5914245e231e8b29dd0ddd4618abb8fd1c74449a9a1804edbcd7e380d87824ecbe220bd1133431e9489a6e46305d026"),
        ("SHA3-512", "d2f9eb8555b9735a63eccbc71a217bd840de6da0f802c81cb15b3d61b3df8f009026888ab8e84948e7575d16c3991c9d10fca0974113d28d84632abf3e29ad67", "dee1c83f9a2ad2e65cd17a9399fa9c507e6c2e7b92562fd4d9da6d76259c2d97368562045e9a6655350e5d02eca583548b1962ef12972d2eeb1ed5e648bd5d50"),
    ];
}
