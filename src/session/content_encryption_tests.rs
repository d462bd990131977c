use josekit::jwe::JweContentEncryption;
use josekit::jwe::enc::aesgcm::AesgcmJweEncryption;

use super::PreparedAesGcm;

const KEY: [u8; 32] = [7; 32];
const OTHER_KEY: [u8; 32] = [9; 32];
const IV: [u8; 12] = [1; 12];
const AAD: &[u8] = b"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0";

/// One decryption that must be refused: what was changed, and the inputs.
struct Refused<'a> {
    what: &'a str,
    key: &'a [u8],
    iv: &'a [u8],
    text: &'a [u8],
    aad: &'a [u8],
    tag: &'a [u8],
}

fn assert_refused(cipher: &dyn JweContentEncryption, cases: &[Refused]) {
    for case in cases {
        assert!(
            cipher
                .decrypt(case.key, Some(case.iv), case.text, case.aad, Some(case.tag))
                .is_err(),
            "{}",
            case.what
        );
    }
}

fn prepared() -> PreparedAesGcm {
    PreparedAesGcm::new([KEY.as_slice()])
}

/// josekit's own A256GCM (OpenSSL): what the prepared cipher must agree with.
fn josekit_gcm() -> AesgcmJweEncryption {
    AesgcmJweEncryption::A256gcm
}

#[test]
fn agrees_with_josekits_a256gcm_both_ways() {
    for message in [&b""[..], b"{}", &[0x42; 1000][..]] {
        let (ours, our_tag) = prepared().encrypt(&KEY, Some(&IV), message, AAD).unwrap();
        let (theirs, their_tag) = josekit_gcm()
            .encrypt(&KEY, Some(&IV), message, AAD)
            .unwrap();
        assert_eq!((&ours, &our_tag), (&theirs, &their_tag));
        let read = josekit_gcm()
            .decrypt(&KEY, Some(&IV), &ours, AAD, our_tag.as_deref())
            .unwrap();
        assert_eq!(read, message);
        let read = prepared()
            .decrypt(&KEY, Some(&IV), &theirs, AAD, their_tag.as_deref())
            .unwrap();
        assert_eq!(read, message);
    }
}

#[test]
fn a_key_that_was_not_prepared_still_works() {
    let (sealed, tag) = prepared()
        .encrypt(&OTHER_KEY, Some(&IV), b"payload", AAD)
        .unwrap();
    let read = josekit_gcm()
        .decrypt(&OTHER_KEY, Some(&IV), &sealed, AAD, tag.as_deref())
        .unwrap();
    assert_eq!(read, b"payload");
}

#[test]
fn tampering_or_the_wrong_key_is_refused() {
    let (sealed, tag) = prepared()
        .encrypt(&KEY, Some(&IV), b"payload", AAD)
        .unwrap();
    let tag = tag.unwrap();
    let mut flipped_text = sealed.clone();
    flipped_text[0] ^= 1;
    let mut flipped_tag = tag.clone();
    flipped_tag[15] ^= 1;
    let case = |what, key: &'static [u8], iv: &'static [u8]| Refused {
        what,
        key,
        iv,
        text: &sealed,
        aad: AAD,
        tag: &tag,
    };
    assert_refused(
        &prepared(),
        &[
            Refused {
                text: &flipped_text,
                ..case("ciphertext", &KEY, &IV)
            },
            Refused {
                tag: &flipped_tag,
                ..case("tag", &KEY, &IV)
            },
            Refused {
                aad: b"eyJ",
                ..case("aad", &KEY, &IV)
            },
            case("iv", &KEY, &[2; 12]),
            case("key", &OTHER_KEY, &IV),
            Refused {
                tag: &tag[..8],
                ..case("short tag", &KEY, &IV)
            },
        ],
    );
}

#[test]
fn malformed_lengths_are_errors_not_panics() {
    let cipher = prepared();
    assert!(cipher.encrypt(&KEY[..16], Some(&IV), b"x", AAD).is_err());
    assert!(cipher.encrypt(&KEY, Some(&IV[..1]), b"x", AAD).is_err());
    assert!(cipher.encrypt(&KEY, None, b"x", AAD).is_err());
    assert!(
        cipher
            .decrypt(&KEY, Some(&[0; 16]), b"x", AAD, Some(&[0; 16]))
            .is_err()
    );
    assert!(cipher.decrypt(&KEY, Some(&IV), b"x", AAD, None).is_err());
    assert!(
        cipher
            .decrypt(&[0; 64], Some(&IV), b"x", AAD, Some(&[0; 16]))
            .is_err()
    );
}

mod cbc_hmac {
    use josekit::jwe::JweContentEncryption;
    use josekit::jwe::enc::A256CBC_HS512;

    use super::super::TagFirstCbcHmac;
    use super::{Refused, assert_refused};

    const KEY: [u8; 64] = [5; 64];
    const IV: [u8; 16] = [6; 16];
    const AAD: &[u8] = b"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0";

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
        let read = TagFirstCbcHmac
            .decrypt(&KEY, Some(&IV), &sealed, AAD, Some(&tag))
            .unwrap();
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
        assert_refused(
            &TagFirstCbcHmac,
            &[
                Refused {
                    what: "tag",
                    key: &KEY,
                    iv: &IV,
                    text: &sealed,
                    aad: AAD,
                    tag: &flipped_tag,
                },
                Refused {
                    what: "ciphertext",
                    key: &KEY,
                    iv: &IV,
                    text: &flipped_text,
                    aad: AAD,
                    tag: &tag,
                },
                Refused {
                    what: "short tag",
                    key: &KEY,
                    iv: &IV,
                    text: &sealed,
                    aad: AAD,
                    tag: &tag[..16],
                },
                Refused {
                    what: "short iv",
                    key: &KEY,
                    iv: &IV[..12],
                    text: &sealed,
                    aad: AAD,
                    tag: &tag,
                },
                Refused {
                    what: "short key",
                    key: &KEY[..32],
                    iv: &IV,
                    text: &sealed,
                    aad: AAD,
                    tag: &tag,
                },
                Refused {
                    what: "padding",
                    key: &KEY,
                    iv: &IV,
                    text: &garbage,
                    aad: AAD,
                    tag: &garbage_tag,
                },
            ],
        );
        assert!(
            TagFirstCbcHmac
                .decrypt(&KEY, None, &sealed, AAD, Some(&tag))
                .is_err()
        );
        assert!(
            TagFirstCbcHmac
                .decrypt(&KEY, Some(&IV), &sealed, AAD, None)
                .is_err()
        );
    }
}

/// Every context authgate reads JWEs with knows only the content encryptions it was given
/// and no compression: josekit's defaults (DEF, A128CBC-HS256 and the other AES-GCM and
/// CBC sizes) never see a token.
#[test]
fn contexts_know_only_the_encryptions_given_and_no_compression() {
    use super::{a256gcm_context, context_with};
    let session = context_with(vec![
        Box::new(PreparedAesGcm::new([KEY.as_slice()])),
        Box::new(super::TagFirstCbcHmac),
    ]);
    for (context, known) in [
        (a256gcm_context(), &["A256GCM"][..]),
        (&session, &["A256GCM", "A256CBC-HS512"][..]),
    ] {
        assert!(context.get_compression("DEF").is_none());
        for name in super::JOSEKIT_ENCRYPTIONS {
            assert_eq!(
                context.get_content_encryption(name).is_some(),
                known.contains(&name),
                "{name}"
            );
        }
    }
}
