use super::*;

/// What `kubectl create token default --audience api://AzureADTokenExchange` (1.32.4) sent,
/// from its `-v=9` log.
const KUBECTL_AUDIENCE: &[u8] =
    b"k8s\x00\x0a\x28\x0a\x18authentication.k8s.io/v1\x12\x0cTokenRequest\
\x12\x36\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\
\x12\x1c\x0a\x1aapi://AzureADTokenExchange\x1a\x04\x0a\x00\x12\x00\x1a\x00\x22\x00";

/// `… --audience a --audience b --duration=2h --bound-object-kind Pod --bound-object-name p
/// --bound-object-uid 123`.
const KUBECTL_EVERYTHING: &[u8] =
    b"k8s\x00\x0a\x28\x0a\x18authentication.k8s.io/v1\x12\x0cTokenRequest\
\x12\x36\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\
\x12\x1c\x0a\x01a\x0a\x01b\x1a\x11\x0a\x03Pod\x12\x02v1\x1a\x01p\x22\x03123\x20\xa0\x38\
\x1a\x04\x0a\x00\x12\x00\x1a\x00\x22\x00";

#[test]
fn kubectls_token_request_with_an_audience_decodes() {
    let request = token_request(KUBECTL_AUDIENCE).unwrap();
    assert_eq!(
        request,
        TokenRequestBody {
            audiences: vec!["api://AzureADTokenExchange".to_owned()],
            ..TokenRequestBody::default()
        }
    );
}

#[test]
fn kubectls_token_request_with_every_flag_decodes() {
    let request = token_request(KUBECTL_EVERYTHING).unwrap();
    assert_eq!(request.audiences, ["a", "b"]);
    assert_eq!(request.expiration_seconds, Some(7200));
    assert_eq!(
        request.bound_object_ref,
        Some(BoundObjectRef {
            kind: "Pod".into(),
            api_version: "v1".into(),
            name: "p".into(),
            uid: "123".into(),
        })
    );
}

/// `raw` (a TokenRequest message) in the envelope.
fn envelope(raw: &[u8]) -> Vec<u8> {
    let mut body = b"k8s\x00\x12".to_vec();
    body.push(u8::try_from(raw.len()).unwrap());
    body.extend_from_slice(raw);
    body
}

#[test]
fn names_and_a_negative_expiration_decode() {
    // metadata {name "sa", namespace "ns"}, spec {expirationSeconds -1 (ten bytes)}.
    let mut raw = b"\x0a\x08\x0a\x02sa\x1a\x02ns\x12\x0b\x20".to_vec();
    raw.extend_from_slice(&[0xff; 9]);
    raw.push(0x01);
    let request = token_request(&envelope(&raw)).unwrap();
    assert_eq!(
        (request.name.as_str(), request.namespace.as_str()),
        ("sa", "ns")
    );
    assert_eq!(request.expiration_seconds, Some(-1));
}

#[test]
fn malformed_bodies_are_errors() {
    let cases: &[(&[u8], DecodeError)] = &[
        (b"", DecodeError::Magic),
        (b"{\"kind\":\"TokenRequest\"}", DecodeError::Magic),
        (b"k8s\x00\x12\x05ab", DecodeError::Truncated),
        (b"k8s\x00\x12", DecodeError::Truncated),
        (
            b"k8s\x00\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
            DecodeError::Varint,
        ),
        (b"k8s\x00\x0b", DecodeError::WireType(1)),
        (b"k8s\x00\x0a\x04\x12\x02\xff\xfe", DecodeError::Utf8),
        (
            b"k8s\x00\x0a\x08\x12\x06Secret",
            DecodeError::Kind("Secret".into()),
        ),
        (b"k8s\x00\x1a\x04gzip", DecodeError::Encoding("gzip".into())),
        // expirationSeconds as bytes, an audience as a varint.
        (&envelope(b"\x12\x02\x22\x00"), DecodeError::WireType(4)),
        (&envelope(b"\x12\x02\x08\x01"), DecodeError::WireType(1)),
        // A length that does not fit the message it is in.
        (&envelope(b"\x12\x02\x0a\x09"), DecodeError::Truncated),
    ];
    for (body, expected) in cases {
        assert_eq!(token_request(body).as_ref(), Err(expected), "{body:x?}");
    }
}

#[test]
fn no_prefix_and_no_corruption_of_kubectls_body_panics() {
    for body in [KUBECTL_AUDIENCE, KUBECTL_EVERYTHING] {
        for end in 0..body.len() {
            let _ = token_request(&body[..end]);
        }
        for at in 0..body.len() {
            for byte in [0x00, 0x01, 0x07, 0x0f, 0x7f, 0x80, 0xff] {
                let mut corrupt = body.to_vec();
                corrupt[at] = byte;
                let _ = token_request(&corrupt);
            }
        }
    }
}

#[test]
fn arbitrary_bytes_after_the_magic_never_panic() {
    // A fixed linear congruential generator: the same inputs every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let length = usize::try_from(state >> 58).unwrap();
        let mut body = MAGIC.to_vec();
        for _ in 0..length {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            body.push(state.to_be_bytes()[0]);
        }
        let _ = token_request(&body);
    }
}
