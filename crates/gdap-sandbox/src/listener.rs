//! A TCP listener whose connections can be reset from a handler (fault injection).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Per-connection kill switch.
#[derive(Debug, Default)]
pub(crate) struct ConnCtl {
    kill: AtomicBool,
}

impl ConnCtl {
    /// Makes the connection fail on its next read or write and close with RST.
    pub(crate) fn kill(&self) {
        self.kill.store(true, Ordering::SeqCst);
    }

    fn killed(&self) -> bool {
        self.kill.load(Ordering::SeqCst)
    }
}

/// Connection info handed to handlers (`ConnectInfo<ConnInfo>`).
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    #[allow(dead_code)] // kept for debugging and logs
    pub(crate) peer: SocketAddr,
    pub(crate) ctl: Arc<ConnCtl>,
}

/// Wraps a [`TcpListener`].
#[derive(Debug)]
pub(crate) struct KillListener {
    pub(crate) inner: TcpListener,
}

/// A TCP stream that can be reset.
#[derive(Debug)]
pub(crate) struct KillStream {
    inner: TcpStream,
    ctl: Arc<ConnCtl>,
}

fn reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "gdap-sandbox: injected connection reset",
    )
}

impl KillStream {
    fn check(&self) -> io::Result<()> {
        if self.ctl.killed() {
            let _ = self.inner.set_zero_linger();
            Err(reset())
        } else {
            Ok(())
        }
    }
}

impl Listener for KillListener {
    type Io = KillStream;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let ctl = Arc::new(ConnCtl::default());
                    return (
                        KillStream {
                            inner: stream,
                            ctl: ctl.clone(),
                        },
                        ConnInfo { peer, ctl },
                    );
                }
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnInfo {
            peer: self.inner.local_addr()?,
            ctl: Arc::new(ConnCtl::default()),
        })
    }
}

impl Connected<IncomingStream<'_, KillListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, KillListener>) -> Self {
        stream.remote_addr().clone()
    }
}

impl AsyncRead for KillStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
