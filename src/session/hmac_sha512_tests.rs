use josekit::jws::{HS512, JwsSigner, JwsVerifier};

use super::PreparedHs512;

const KEY: [u8; 64] = [3; 64];

#[test]
fn agrees_with_josekits_hs512_both_ways() {
    let ours = PreparedHs512::new(&KEY).unwrap();
    let signer = HS512.signer_from_bytes(KEY).unwrap();
    let verifier = HS512.verifier_from_bytes(KEY).unwrap();
    for message in [&b""[..], b"eyJ.eyJ", &[0x61; 500][..]] {
        let signature = JwsSigner::sign(&ours, message).unwrap();
        assert_eq!(signature, signer.sign(message).unwrap());
        verifier.verify(message, &signature).unwrap();
        JwsVerifier::verify(&ours, message, &signer.sign(message).unwrap()).unwrap();
    }
}

#[test]
fn a_wrong_or_short_signature_is_refused() {
    let ours = PreparedHs512::new(&KEY).unwrap();
    let signature = JwsSigner::sign(&ours, b"message").unwrap();
    let mut flipped = signature.clone();
    flipped[63] ^= 1;
    let other = PreparedHs512::new(&[4; 64]).unwrap();
    for (what, verifier, message, signature) in [
        ("flipped", &ours, &b"message"[..], &flipped[..]),
        ("truncated", &ours, b"message", &signature[..32]),
        ("empty", &ours, b"message", &[][..]),
        ("other message", &ours, b"messagf", &signature[..]),
        ("other key", &other, b"message", &signature[..]),
    ] {
        assert!(
            JwsVerifier::verify(verifier, message, signature).is_err(),
            "{what}"
        );
    }
}

#[test]
fn a_key_shorter_than_josekit_accepts_is_refused() {
    assert!(PreparedHs512::new(&[3; 63]).is_err());
    assert!(HS512.signer_from_bytes([3; 63]).is_err());
}
