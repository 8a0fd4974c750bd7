//! The connection's byte stream, with hyper's own error answers made the API's.
//!
//! hyper answers a request it cannot parse (bad bytes in the request line or a header, a head
//! over the buffer limit, too many headers, a URL over its limit) by itself, before any route
//! runs, with `400`, `431` or `414` and an empty body, and offers no hook to change that answer.
//! Every error of the API is JSON `{error, detail}` (docs/api.md), so this stream recognises
//! that canned answer as hyper writes it and writes the same status with a JSON body instead.
//!
//! The canned answer is unmistakable: a `400`, `414` or `431` head with `content-length: 0`.
//! Every error answer of the routes carries a JSON body, so none of them looks like it; and a
//! body (JSON or Prometheus text) never holds a CRLF-delimited head. The stream reports itself
//! as not vectored, so hyper writes each answer from one flat buffer and the head is whole.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::error::error_body;

/// What hyper's canned parse-error answers become: status line start, code, detail.
const REWRITES: [(&[u8], &str, &str); 3] = [
    (
        b"HTTP/1.1 400 ",
        "bad_request",
        "the request is not valid HTTP/1.1: its request line or a header is malformed; \
         percent-encode bytes outside printable ASCII in the path and query (e.g. %FF)",
    ),
    (
        b"HTTP/1.1 431 ",
        "headers_too_large",
        "the request line and headers are too large (see docs/api.md, Limits); \
         send fewer or smaller headers",
    ),
    (
        b"HTTP/1.1 414 ",
        "uri_too_long",
        "the URL is too long (see docs/api.md, Limits); send a shorter path and query",
    ),
];

const EMPTY_BODY: &[u8] = b"\r\ncontent-length: 0\r\n";
const HEAD_END: &[u8] = b"\r\n\r\n";

/// A replacement answer being written in place of hyper's canned one.
struct Rewrite {
    bytes: Vec<u8>,
    written: usize,
    /// Length of hyper's answer it replaces, reported as written once all is out.
    replaces: usize,
}

/// A byte stream whose canned parse-error answers carry the API's JSON error body.
pub(super) struct JsonErrors<S> {
    inner: S,
    rewrite: Option<Rewrite>,
}

impl<S> JsonErrors<S> {
    /// Wraps a connection's stream.
    pub(super) fn new(inner: S) -> JsonErrors<S> {
        JsonErrors {
            inner,
            rewrite: None,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where a canned answer starts in `buf`, and its JSON replacement.
fn canned_answer(buf: &[u8]) -> Option<(usize, Rewrite)> {
    // Nearly every write is a response with a body: one scan rules it out.
    find(buf, EMPTY_BODY)?;
    for (status_line, code, detail) in REWRITES {
        let mut from = 0;
        while let Some(at) = find(&buf[from..], status_line) {
            let start = from + at;
            from = start + 1;
            let head = &buf[start..];
            let Some(end) = find(head, HEAD_END).map(|i| i + HEAD_END.len()) else {
                continue;
            };
            // A head has no quotes or braces; the same words inside a JSON body would.
            let head = &head[..end];
            if head.iter().any(|b| matches!(b, b'"' | b'{' | b'}')) {
                continue;
            }
            let Some(empty) = find(head, EMPTY_BODY) else {
                continue;
            };
            return Some((start, json_answer(head, empty, code, detail)));
        }
    }
    None
}

/// hyper's canned `head` (with `content-length: 0` at `empty`) turned into one with a JSON body.
fn json_answer(head: &[u8], empty: usize, code: &str, detail: &str) -> Rewrite {
    let body = error_body(code, detail);
    let mut bytes = Vec::with_capacity(head.len() + body.len() + 64);
    bytes.extend_from_slice(&head[..empty]);
    bytes.extend_from_slice(b"\r\ncontent-type: application/json");
    bytes.extend_from_slice(format!("\r\ncontent-length: {}\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(&head[empty + EMPTY_BODY.len()..]);
    bytes.extend_from_slice(&body);
    Rewrite {
        bytes,
        written: 0,
        replaces: head.len(),
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrors<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrors<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.rewrite.is_none() {
            match canned_answer(buf) {
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
                // What precedes the canned answer goes out first; hyper then hands the rest.
                Some((start, _)) if start > 0 => {
                    return Pin::new(&mut this.inner).poll_write(cx, &buf[..start]);
                }
                Some((_, rewrite)) => this.rewrite = Some(rewrite),
            }
        }
        let Some(rewrite) = this.rewrite.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while rewrite.written < rewrite.bytes.len() {
            let rest = &rewrite.bytes[rewrite.written..];
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            rewrite.written += n;
        }
        let replaced = rewrite.replaces;
        this.rewrite = None;
        Poll::Ready(Ok(replaced))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}
