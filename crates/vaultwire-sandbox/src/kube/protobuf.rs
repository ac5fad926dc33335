//! The one protobuf body the emulator reads: a TokenRequest, which `kubectl create token` sends
//! as `application/vnd.kubernetes.protobuf` whatever its flags.
//!
//! The envelope is the magic `k8s\0` and a `runtime.Unknown` (1 TypeMeta, 2 raw bytes: the
//! object, 3 contentEncoding, 4 contentType); the object is `authentication.k8s.io/v1`
//! TokenRequest (1 metadata, 2 spec). Field numbers as kubectl 1.32 writes them (see
//! `docs/sandbox-kubernetes.md`). Unknown fields are skipped, as protobuf readers do. Every read
//! is bounds-checked and nothing recurses beyond the fixed nesting of these messages, so no
//! input panics or loops; every other protobuf body still gets a 415.

use super::token_request::{BoundObjectRef, TokenRequestBody};

const MAGIC: &[u8] = b"k8s\0";

/// Why a body is not a protobuf TokenRequest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum DecodeError {
    #[error("the body does not start with the protobuf envelope's magic number")]
    Magic,
    #[error("the protobuf data ends inside a field")]
    Truncated,
    #[error("a varint is longer than 10 bytes")]
    Varint,
    #[error("field {0} has a wire type its message does not allow")]
    WireType(u64),
    #[error("a string field is not UTF-8")]
    Utf8,
    #[error("the envelope holds a {0}, not a TokenRequest")]
    Kind(String),
    #[error("the envelope's content encoding `{0}` is not supported")]
    Encoding(String),
}

/// The TokenRequest in a protobuf body.
pub(super) fn token_request(body: &[u8]) -> Result<TokenRequestBody, DecodeError> {
    let message = body.strip_prefix(MAGIC).ok_or(DecodeError::Magic)?;
    let mut raw: &[u8] = &[];
    for field in Fields(message) {
        match field? {
            (1, Value::Bytes(type_meta)) => {
                for field in Fields(type_meta) {
                    if let (2, Value::Bytes(kind)) = field? {
                        let kind = text(kind)?;
                        if !kind.is_empty() && kind != "TokenRequest" {
                            return Err(DecodeError::Kind(kind));
                        }
                    }
                }
            }
            (2, Value::Bytes(bytes)) => raw = bytes,
            (3, Value::Bytes(encoding)) if !encoding.is_empty() => {
                return Err(DecodeError::Encoding(text(encoding)?));
            }
            _ => {}
        }
    }
    let mut request = TokenRequestBody::default();
    for field in Fields(raw) {
        match field? {
            (1, Value::Bytes(metadata)) => {
                for field in Fields(metadata) {
                    match field? {
                        (1, Value::Bytes(name)) => request.name = text(name)?,
                        (3, Value::Bytes(namespace)) => request.namespace = text(namespace)?,
                        _ => {}
                    }
                }
            }
            (2, Value::Bytes(spec)) => spec_fields(spec, &mut request)?,
            _ => {}
        }
    }
    Ok(request)
}

/// TokenRequestSpec: 1 audiences (repeated), 3 boundObjectRef, 4 expirationSeconds.
fn spec_fields(spec: &[u8], request: &mut TokenRequestBody) -> Result<(), DecodeError> {
    for field in Fields(spec) {
        match field? {
            (1, Value::Bytes(audience)) => request.audiences.push(text(audience)?),
            (3, Value::Bytes(reference)) => {
                let mut bound = BoundObjectRef::default();
                for field in Fields(reference) {
                    match field? {
                        (1, Value::Bytes(kind)) => bound.kind = text(kind)?,
                        (2, Value::Bytes(version)) => bound.api_version = text(version)?,
                        (3, Value::Bytes(name)) => bound.name = text(name)?,
                        (4, Value::Bytes(uid)) => bound.uid = text(uid)?,
                        _ => {}
                    }
                }
                request.bound_object_ref = Some(bound);
            }
            // An int64 is its two's complement in a varint: the cast is the decoding.
            (4, Value::Varint(seconds)) => request.expiration_seconds = Some(seconds as i64),
            (number @ (1 | 3 | 4), _) => return Err(DecodeError::WireType(number)),
            _ => {}
        }
    }
    Ok(())
}

fn text(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::Utf8)
}

/// One field's value, by wire type; fixed-width values are skipped.
#[derive(Debug, PartialEq, Eq)]
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of one message, in order; after an error it yields nothing more.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            self.0 = &[];
        }
        Some(field)
    }
}

impl<'a> Fields<'a> {
    fn field(&mut self) -> Result<(u64, Value<'a>), DecodeError> {
        let key = self.varint()?;
        let (number, wire_type) = (key >> 3, key & 7);
        let value = match wire_type {
            0 => Value::Varint(self.varint()?),
            1 => self.skip(8).map(|_| Value::Fixed)?,
            2 => {
                let length = usize::try_from(self.varint()?).map_err(|_| DecodeError::Truncated)?;
                Value::Bytes(self.skip(length)?)
            }
            5 => self.skip(4).map(|_| Value::Fixed)?,
            // Groups (3, 4) are proto2 relics no Kubernetes message uses.
            _ => return Err(DecodeError::WireType(number)),
        };
        Ok((number, value))
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for index in 0..10 {
            let (&byte, rest) = self.0.split_first().ok_or(DecodeError::Truncated)?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Varint)
    }

    fn skip(&mut self, length: usize) -> Result<&'a [u8], DecodeError> {
        let (taken, rest) = self
            .0
            .split_at_checked(length)
            .ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(taken)
    }
}

#[cfg(test)]
#[path = "protobuf_tests.rs"]
mod tests;
