use josekit::jwe::JweContentEncryption;
use josekit::jwe::enc::A256CBC_HS512;
use josekit::jwe::enc::aesgcm::AesgcmJweEncryption;

use super::{ContentKey, Enc};

/// One decryption that must be refused: what was changed, and the inputs.
struct Refused<'a> {
    what: &'a str,
    iv: &'a [u8],
    text: &'a [u8],
    aad: &'a [u8],
    tag: &'a [u8],
}

fn assert_refused(key: &ContentKey, cases: &[Refused]) {
    for case in cases {
        assert!(
            key.decrypt(case.iv, case.text, case.aad, case.tag).is_err(),
            "{}",
            case.what
        );
    }
}

mod gcm {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const OTHER_KEY: [u8; 32] = [9; 32];
    const IV: [u8; 12] = [1; 12];
    const AAD: &[u8] = b"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0";

    fn key(bytes: &[u8]) -> ContentKey {
        ContentKey::new(Enc::A256Gcm, bytes).unwrap()
    }

    /// josekit's own A256GCM (OpenSSL) seals; the prepared key opens.
    fn sealed_by_josekit(key: &[u8], message: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (sealed, tag) = AesgcmJweEncryption::A256gcm
            .encrypt(key, Some(&IV), message, AAD)
            .unwrap();
        (sealed, tag.unwrap())
    }

    #[test]
    fn opens_what_josekits_a256gcm_seals() {
        for message in [&b""[..], b"{}", &[0x42; 1000][..]] {
            let (sealed, tag) = sealed_by_josekit(&KEY, message);
            assert_eq!(key(&KEY).decrypt(&IV, &sealed, AAD, &tag).unwrap(), message);
        }
    }

    #[test]
    fn tampering_or_the_wrong_key_is_refused() {
        let (sealed, tag) = sealed_by_josekit(&KEY, b"payload");
        let mut flipped_text = sealed.clone();
        flipped_text[0] ^= 1;
        let mut flipped_tag = tag.clone();
        flipped_tag[15] ^= 1;
        let case = |what| Refused {
            what,
            iv: &IV,
            text: &sealed,
            aad: AAD,
            tag: &tag,
        };
        assert_refused(
            &key(&KEY),
            &[
                Refused {
                    text: &flipped_text,
                    ..case("ciphertext")
                },
                Refused {
                    tag: &flipped_tag,
                    ..case("tag")
                },
                Refused {
                    aad: b"eyJ",
                    ..case("aad")
                },
                Refused {
                    iv: &[2; 12],
                    ..case("iv")
                },
                Refused {
                    tag: &tag[..8],
                    ..case("short tag")
                },
                Refused {
                    iv: &IV[..1],
                    ..case("short iv")
                },
                Refused {
                    iv: &[1; 16],
                    ..case("long iv")
                },
            ],
        );
        assert_refused(&key(&OTHER_KEY), &[case("key")]);
    }
}

mod cbc_hmac {
    use super::*;

    const KEY: [u8; 64] = [5; 64];
    const IV: [u8; 16] = [6; 16];
    const AAD: &[u8] = b"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0";

    fn key() -> ContentKey {
        ContentKey::new(Enc::A256CbcHs512, &KEY).unwrap()
    }

    /// The tag of `ciphertext` as RFC 7518 §5.2.2.1 computes it (josekit's encrypt is the
    /// reference: it agrees for a real ciphertext).
    fn tag_of(ciphertext: &[u8]) -> Vec<u8> {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha512>::new_from_slice(&KEY[..32]).unwrap();
        mac.update(AAD);
        mac.update(&IV);
        mac.update(ciphertext);
        mac.update(&(AAD.len() as u64 * 8).to_be_bytes());
        mac.finalize().into_bytes()[..32].to_vec()
    }

    #[test]
    fn reads_what_josekit_writes_with_the_same_tag() {
        let (sealed, tag) = A256CBC_HS512
            .encrypt(&KEY, Some(&IV), b"{\"sub\":\"1\"}", AAD)
            .unwrap();
        let tag = tag.unwrap();
        assert_eq!(tag, tag_of(&sealed));
        let read = key().decrypt(&IV, &sealed, AAD, &tag).unwrap();
        assert_eq!(read, b"{\"sub\":\"1\"}");
    }

    #[test]
    fn a_wrong_tag_or_a_bad_padding_under_a_good_tag_is_refused() {
        let (sealed, tag) = A256CBC_HS512
            .encrypt(&KEY, Some(&IV), b"payload", AAD)
            .unwrap();
        let tag = tag.unwrap();
        let mut flipped_tag = tag.clone();
        flipped_tag[0] ^= 1;
        let mut flipped_text = sealed.clone();
        flipped_text[0] ^= 1;
        // A block that decrypts to garbage padding, with the tag it deserves: only the
        // decryption can refuse it.
        let garbage = [0x11u8; 16];
        let garbage_tag = tag_of(&garbage);
        let case = |what| Refused {
            what,
            iv: &IV,
            text: &sealed,
            aad: AAD,
            tag: &tag,
        };
        assert_refused(
            &key(),
            &[
                Refused {
                    tag: &flipped_tag,
                    ..case("tag")
                },
                Refused {
                    text: &flipped_text,
                    ..case("ciphertext")
                },
                Refused {
                    tag: &tag[..16],
                    ..case("short tag")
                },
                Refused {
                    iv: &IV[..12],
                    ..case("short iv")
                },
                Refused {
                    text: &garbage,
                    tag: &garbage_tag,
                    ..case("padding")
                },
            ],
        );
    }
}

#[test]
fn keys_of_the_wrong_length_are_errors_and_print_no_key_material() {
    for (enc, wrong) in [
        (Enc::A256Gcm, 16),
        (Enc::A256Gcm, 64),
        (Enc::A256CbcHs512, 32),
    ] {
        assert!(
            ContentKey::new(enc, &vec![0; wrong]).is_err(),
            "{enc:?} {wrong}"
        );
    }
    for (enc, key) in [
        (Enc::A256Gcm, vec![0xab; 32]),
        (Enc::A256CbcHs512, vec![0xab; 64]),
    ] {
        let printed = format!("{:?}", ContentKey::new(enc, &key).unwrap());
        assert_eq!(printed, format!("ContentKey({:?})", enc.name()));
    }
}

#[test]
fn only_the_two_encryptions_authgate_reads_are_named() {
    for (name, enc) in [
        ("A256GCM", Some(Enc::A256Gcm)),
        ("A256CBC-HS512", Some(Enc::A256CbcHs512)),
        ("A128GCM", None),
        ("A128CBC-HS256", None),
        ("a256gcm", None),
        ("", None),
    ] {
        assert_eq!(Enc::named(name), enc, "{name}");
        if let Some(enc) = enc {
            assert_eq!(enc.name(), name);
        }
    }
}
