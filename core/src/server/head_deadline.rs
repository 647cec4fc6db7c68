//! A bound on how long a new connection may take to send its first request
//! headers: a client that trickles or withholds them (slow headers) would
//! otherwise hold a connection, and a task, for as long as it likes. The
//! deadline ends at the blank line closing the headers; later keep-alive
//! silence is poem's idle timeout's concern.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Wraps every connection `inner` accepts in a [`HeadDeadline`].
pub struct HeadDeadlineAcceptor<A> {
    pub inner: A,
    pub limit: Duration,
}

impl<A: Acceptor> Acceptor for HeadDeadlineAcceptor<A> {
    type Io = HeadDeadline<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        let io = HeadDeadline {
            inner: io,
            deadline: Some(Box::pin(tokio::time::sleep(self.limit))),
            matched: 0,
        };
        Ok((io, local, remote, scheme))
    }
}

/// A connection whose reads fail once the deadline passes before the end of
/// the first request's headers has been read.
pub struct HeadDeadline<T> {
    inner: T,
    /// `None` once the headers are in.
    deadline: Option<Pin<Box<Sleep>>>,
    /// How much of `\r\n\r\n` the bytes read so far end with.
    matched: usize,
}

const END_OF_HEAD: &[u8] = b"\r\n\r\n";

impl<T> HeadDeadline<T> {
    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.matched = if b == END_OF_HEAD[self.matched] {
                self.matched + 1
            } else if b == b'\r' {
                1
            } else {
                0
            };
            if self.matched == END_OF_HEAD.len() {
                self.deadline = None;
                return;
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for HeadDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let Some(deadline) = this.deadline.as_mut() else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request headers not received in time",
            )));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if read.is_ready() {
            let fresh = buf.filled()[before..].to_vec();
            this.scan(&fresh);
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for HeadDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(chunks: &[&[u8]]) -> bool {
        let mut io = HeadDeadline {
            inner: (),
            deadline: Some(Box::pin(tokio::time::sleep(Duration::from_secs(1)))),
            matched: 0,
        };
        for c in chunks {
            io.scan(c);
        }
        io.deadline.is_none()
    }

    #[tokio::test]
    async fn the_blank_line_ends_the_head_even_split_across_reads() {
        assert!(scanned(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]));
        assert!(scanned(&[b"GET / HTTP/1.1\r\nHost: x\r", b"\n\r", b"\n"]));
        assert!(scanned(&[b"GET / HTTP/1.1\r\r\n\r\n"]));
        assert!(!scanned(&[b"GET / HTTP/1.1\r\nHost: x\r\n"]));
        assert!(!scanned(&[b"GET / HTTP/1.1\n\n"]));
    }
}
