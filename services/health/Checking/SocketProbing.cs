using System.Net.Sockets;
using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>Socket plumbing the TCP-based checkers share: connect within the time limit, and error classes.</summary>
internal static class SocketProbing
{
    /// <summary>A token that fires at the probe's time limit or when the service stops.</summary>
    public static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken stopping)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    public static Socket NewTcpSocket(ProbeTarget target)
    {
        var socket = ProbeNetwork.CreateSocket(target.Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;
        try
        {
            if (target.LocalEndpoint is { } local)
            {
                socket.Bind(local);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Closes with a reset rather than a FIN: a checker's connections would otherwise leave tens of thousands of
    /// TIME_WAIT entries a minute on a large director (HAProxy's checks do the same).
    /// </summary>
    public static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing left to linger.
        }
        catch (ObjectDisposedException)
        {
        }

        socket.Dispose();
    }

    /// <summary>The outcome of a failed probe; <paramref name="stopping"/> tells our time limit from the service stopping.</summary>
    public static ProbeOutcome Classify(Exception e, string stage, CancellationToken stopping)
    {
        if (e is OperationCanceledException && stopping.IsCancellationRequested)
        {
            throw e;
        }

        return e switch
        {
            OperationCanceledException => ProbeOutcome.Failed(ProbeErrorClass.Timeout, $"timeout during {stage}"),
            SocketException s => Classify(s.SocketErrorCode, stage),
            IOException { InnerException: SocketException s } => Classify(s.SocketErrorCode, stage),
            System.Security.Authentication.AuthenticationException a => ProbeOutcome.Failed(ProbeErrorClass.TlsError, $"TLS handshake: {a.Message}"),
            IOException io when stage == "TLS handshake" => ProbeOutcome.Failed(ProbeErrorClass.TlsError, $"TLS handshake: {io.Message}"),
            IOException io => ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, $"{stage}: {io.Message}"),
            _ => ProbeOutcome.Failed(ProbeErrorClass.Other, $"{stage}: {e.GetType().Name}: {e.Message}"),
        };
    }

    public static ProbeOutcome Classify(SocketError error, string stage) => error switch
    {
        SocketError.ConnectionRefused => ProbeOutcome.Failed(ProbeErrorClass.Refused, $"connection refused ({stage})"),
        SocketError.TimedOut => ProbeOutcome.Failed(ProbeErrorClass.Timeout, $"timeout during {stage}"),
        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.NetworkDown or SocketError.AddressNotAvailable
            => ProbeOutcome.Failed(ProbeErrorClass.Unreachable, $"{error} ({stage})"),
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
            => ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, $"connection reset during {stage}"),
        _ => ProbeOutcome.Failed(ProbeErrorClass.Other, $"{error} during {stage}"),
    };
}
