use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Wake;

use super::*;

/// A connection whose reads come from a script and whose writes are kept.
#[derive(Default)]
struct Scripted {
    reads: VecDeque<Poll<Vec<u8>>>,
    written: Vec<u8>,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.reads.pop_front() {
            Some(Poll::Ready(bytes)) => {
                buf.put_slice(&bytes);
                Poll::Ready(Ok(()))
            }
            Some(Poll::Pending) => Poll::Pending,
            None => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[derive(Default)]
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\n\r\n";

#[derive(Clone, Copy, Debug)]
enum Step {
    /// A read that brings bytes.
    Read,
    /// A read that finds nothing yet.
    ReadPending,
    /// A read at the end of the stream.
    ReadEnd,
    /// A write, and whether it passes (true) or waits (false).
    Write(bool),
    /// A vectored write, and whether it passes.
    WriteVectored(bool),
}

#[test]
fn only_the_first_write_after_a_read_waits_and_it_wakes_its_task_once() {
    use Step::*;
    let cases: [(&str, &[Step]); 9] = [
        ("a write with nothing read", &[Write(true), Write(true)]),
        (
            "an answer: its first write waits once, the rest pass",
            &[Read, Write(false), Write(true), Write(true)],
        ),
        (
            "each request's answer waits once",
            &[
                Read,
                Write(false),
                Write(true),
                Read,
                Write(false),
                Write(true),
            ],
        ),
        (
            "two reads before the answer: still once",
            &[Read, Read, Write(false), Write(true)],
        ),
        (
            "more bytes read while the answer waits: it waits no longer",
            &[Read, Write(false), Read, Read, Write(true), Write(true)],
        ),
        (
            "after the answer went out, the next request's answer waits again",
            &[
                Read,
                Write(false),
                Read,
                Write(true),
                Write(true),
                Read,
                Write(false),
            ],
        ),
        ("a read that found nothing", &[ReadPending, Write(true)]),
        ("a read at the end of the stream", &[ReadEnd, Write(true)]),
        (
            "vectored writes wait as plain ones do",
            &[Read, WriteVectored(false), WriteVectored(true)],
        ),
    ];
    for (name, steps) in cases {
        let wakes = Arc::new(Wakes::default());
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let mut script = Scripted::default();
        for step in steps {
            script.reads.push_back(match step {
                Read => Poll::Ready(REQUEST.to_vec()),
                ReadPending => Poll::Pending,
                ReadEnd => Poll::Ready(Vec::new()),
                Write(_) | WriteVectored(_) => continue,
            });
        }
        let mut connection = BatchedWrites::new(script);
        let mut expected_wakes = 0;
        let mut expected_written = 0;
        for (index, step) in steps.iter().enumerate() {
            let mut buffer = [0u8; 64];
            let mut read = ReadBuf::new(&mut buffer);
            let passed = match step {
                Read | ReadPending | ReadEnd => {
                    let polled = Pin::new(&mut connection).poll_read(&mut cx, &mut read);
                    let expected: &[u8] = match step {
                        Read => REQUEST,
                        _ => b"",
                    };
                    assert_eq!(
                        read.filled(),
                        expected,
                        "{name}: step {index} reads what came"
                    );
                    assert_eq!(polled.is_pending(), matches!(step, ReadPending));
                    continue;
                }
                Write(passes) => {
                    let polled = Pin::new(&mut connection).poll_write(&mut cx, b"HTTP/1.1 200 OK");
                    (polled, *passes)
                }
                WriteVectored(passes) => {
                    let slices = [io::IoSlice::new(b"HTTP/1.1 "), io::IoSlice::new(b"200 OK")];
                    let polled = Pin::new(&mut connection).poll_write_vectored(&mut cx, &slices);
                    (polled, *passes)
                }
            };
            let (polled, passes) = passed;
            assert_eq!(polled.is_ready(), passes, "{name}: step {index} ({step:?})");
            if let Poll::Ready(written) = polled {
                expected_written += written.expect("the scripted write succeeds");
            } else {
                expected_wakes += 1;
            }
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                expected_wakes,
                "{name}: wake-ups after step {index}"
            );
        }
        assert_eq!(
            connection.io.written.len(),
            expected_written,
            "{name}: bytes written"
        );
    }
}

/// A connection that notes its reads and writes in a log shared with others.
struct Logged {
    name: &'static str,
    request: Option<Vec<u8>>,
    log: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
}

impl AsyncRead for Logged {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(request) = self.request.take() {
            buf.put_slice(&request);
            let entry = format!("{} read", self.name);
            self.log.borrow_mut().push(entry);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Logged {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.log.borrow_mut().push(format!("{} wrote", self.name));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Two connections ready in one turn of a worker, each read then answered in one task
/// poll as actix's dispatcher does: both requests are read before either answer is sent.
#[test]
fn the_answers_of_connections_ready_together_leave_after_both_were_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for (batched, expected) in [
        (false, ["a read", "a wrote", "b read", "b wrote"]),
        (true, ["a read", "b read", "a wrote", "b wrote"]),
    ] {
        let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let local = tokio::task::LocalSet::new();
        for name in ["a", "b"] {
            let connection = Logged {
                name,
                request: Some(REQUEST.to_vec()),
                log: log.clone(),
            };
            local.spawn_local(async move {
                let mut buffer = [0u8; 64];
                if batched {
                    let mut connection = BatchedWrites::new(connection);
                    let _ = connection.read(&mut buffer).await;
                    let _ = connection.write(b"HTTP/1.1 200 OK").await;
                } else {
                    let mut connection = connection;
                    let _ = connection.read(&mut buffer).await;
                    let _ = connection.write(b"HTTP/1.1 200 OK").await;
                }
            });
        }
        runtime.block_on(local);
        assert_eq!(*log.borrow(), expected, "batched: {batched}");
    }
}
