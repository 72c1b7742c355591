namespace LvsEvents.Health.Checking;

/// <summary>TCP_CHECK: up when a connection is established within connect_timeout.</summary>
public sealed class TcpProbe(ProbeTarget target) : IProbe
{
    public string Label { get; } = $"TCP_CHECK {target}";

    public async ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
    {
        using var deadline = SocketProbing.Deadline(target.Timeout, cancellationToken);
        var socket = SocketProbing.NewTcpSocket(target);
        try
        {
            await socket.ConnectAsync(target.Endpoint, deadline.Token).ConfigureAwait(false);
            return ProbeOutcome.Up();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return SocketProbing.Classify(e, "connect", cancellationToken);
        }
        finally
        {
            SocketProbing.Abort(socket);
        }
    }
}
