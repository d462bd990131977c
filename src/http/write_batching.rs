//! Answers sent together: a connection's first write after it read a request waits once
//! for the worker's other ready connections to run, so the answers of one batch of
//! requests leave back to back.
//!
//! A send that finds the client's thread asleep wakes it, and on a virtual machine that
//! wake-up (an inter-processor interrupt) costs the sender several microseconds. Under
//! load a worker reads many requests per turn of its event loop; written one by one as
//! each is answered, nearly every answer wakes a client that has gone back to sleep in
//! between. Written after the batch, the first answer wakes the client and the rest
//! reach it while it runs. The wait is one more poll of the connection's task, queued
//! behind the tasks already ready: an idle server answers after that one poll (about
//! 4 µs more per session read with one connection, measured in issue 17).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose first write after each read yields once to the worker's other
/// ready tasks.
pub struct BatchedWrites<T = TcpStream> {
    io: T,
    state: Batching,
}

/// Where a connection is between a request and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Batching {
    /// Nothing read since the last answer went out: writes pass.
    Answered,
    /// A request was read: the next write waits once.
    Read,
    /// The write waited: writes pass, and more reads do not make it wait again (a client
    /// that keeps sending cannot hold its answer back).
    Waited,
}

impl<T> BatchedWrites<T> {
    pub fn new(io: T) -> Self {
        BatchedWrites {
            io,
            state: Batching::Answered,
        }
    }

    /// Whether this write waits: the first after a read does, once.
    fn write_waits(&mut self, cx: &mut Context<'_>) -> bool {
        if self.state != Batching::Read {
            return false;
        }
        self.state = Batching::Waited;
        cx.waker().wake_by_ref();
        true
    }

    /// A write that went out ends the answer's wait.
    fn wrote<R>(&mut self, polled: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if matches!(polled, Poll::Ready(Ok(_))) {
            self.state = Batching::Answered;
        }
        polled
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for BatchedWrites<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(())))
            && buf.filled().len() > before
            && self.state == Batching::Answered
        {
            self.state = Batching::Read;
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for BatchedWrites<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.write_waits(cx) {
            return Poll::Pending;
        }
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.write_waits(cx) {
            return Poll::Pending;
        }
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "write_batching_tests.rs"]
mod tests;
