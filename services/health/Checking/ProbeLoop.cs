using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>
/// The TCP_CHECK and HTTP_GET (clear text) probes' event loops, as HAProxy runs its checks: non-blocking sockets made
/// with the system calls themselves, and per loop one epoll set and one thread that keeps its checkers' due times,
/// opens each due probe's socket, handles its readiness and its time limit, resets it and applies the result (the
/// engine's handling of a result never blocks), then files the checker's next due time on the same loop. One loop per
/// core (at most 4); a checker's probes run on one loop. A probe costs its system calls (setsockopt, connect, one epoll
/// modification, send/recv, and the connect(AF_UNSPEC) that resets the connection and keeps the socket for the next
/// probe) and little else: no SocketAsyncEventArgs, no per-probe timer, no thread-pool or cross-thread hand-off. Linux
/// x64 only; elsewhere, in a network namespace and for TLS the probes use .NET sockets.
/// </summary>
internal sealed unsafe class ProbeLoop
{
    private const ulong WakeData = ulong.MaxValue;
    private const int MaxEvents = 256;
    // Due work run per turn before the loop looks at its sockets again (HAProxy's tune.runqueue-depth plays this part).
    private const int MaxDuePerTurn = 1024;
    // Idle sockets kept per address family: as many as probes a loop usually has in flight at once.
    private const int MaxIdleSockets = 4096;
    // One loop per core (at most 4), as HAProxy runs a thread per core: a checker stays on one of them.
    private static readonly Lazy<ProbeLoop[]?> Instances = new(() => Supported
        ? [.. Enumerable.Range(0, Math.Clamp(Environment.ProcessorCount, 1, 4)).Select(i => new ProbeLoop(i))]
        : null);

    [ThreadStatic]
    private static ProbeLoop? t_current;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly Lock _gate = new();
    private readonly Stack<int> _freeSlots = new();
    private readonly PriorityQueue<(LoopOperation Operation, uint Generation), long> _deadlines = new();
    private readonly List<CancellationToken> _watched = [];
    private LoopOperation?[] _slots = new LoopOperation?[256];
    private int _usedSlots;
    private uint _generation;
    private long _wakeAt = long.MinValue; // under _gate
    private int _cancelScan;
    private readonly PriorityQueue<IThreadPoolWorkItem, long> _timers = new(); // loop thread only
    private readonly List<(IThreadPoolWorkItem Item, long At)> _arriving = []; // under _gate: filed from other threads
    private long _lastTurn = Stopwatch.GetTimestamp();
    private readonly Stack<int> _idle4 = new(); // under _gate: sockets between probes (see Recycle)
    private readonly Stack<int> _idle6 = new();

    private ProbeLoop(int index)
    {
        _epoll = Native.epoll_create1(Native.EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        _wake = Native.eventfd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        var registration = new Native.EpollEvent { Events = Native.EPOLLIN, Data = WakeData };
        if (_wake < 0 || Native.epoll_ctl(_epoll, Native.EPOLL_CTL_ADD, _wake, &registration) < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        Name = $"probe-loop-{index}";
        new Thread(Run) { IsBackground = true, Name = $"health-{Name}" }.Start();
    }

    /// <summary>How the watchdog names this loop.</summary>
    public string Name { get; }

    /// <summary>How long ago the loop last came round (it does at least once a second): the watchdog's view of it.</summary>
    public TimeSpan SilentFor => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastTurn));

    /// <summary>The loops started so far (none where they cannot run, or before the first probe asked for one).</summary>
    public static IReadOnlyList<ProbeLoop> Started => Instances.IsValueCreated && Instances.Value is { } loops ? loops : [];

    /// <summary>Whether the loops run here (Linux x64, not probing in another network namespace).</summary>
    public static bool Available => ProbeNetwork.NamespaceName is null && Instances.Value is not null;

    /// <summary>
    /// The loop for <paramref name="key"/> (a checker): the loop whose thread is asking, else one chosen by the key; null
    /// where the loops cannot run.
    /// </summary>
    public static ProbeLoop? For(object key)
    {
        if (ProbeNetwork.NamespaceName is not null || Instances.Value is not { } loops)
        {
            return null;
        }

        return t_current ?? loops[(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key) & int.MaxValue) % loops.Length];
    }

    private static bool Supported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>
    /// Connects to <paramref name="target"/> within its time limit; with <paramref name="http"/>, sends its request
    /// and reads the response as <see cref="HttpProbe"/> does. The socket is reset at the end, as HAProxy's checks do.
    /// </summary>
    public ValueTask<ProbeOutcome> RunAsync(
        OperationCache cache, ProbeTarget target, byte[] address, HttpExchange? http, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var family = target.Endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? Native.AF_INET6 : Native.AF_INET;
        // A socket not bound to a source address is reused from probe to probe (see Recycle); a bound one is not.
        var reusable = target.LocalEndpoint is null;
        var fd = reusable ? TakeIdle(family) : -1;
        var registered = fd >= 0;
        if (fd < 0)
        {
            fd = Native.socket(family, Native.SOCK_STREAM | Native.SOCK_NONBLOCK | Native.SOCK_CLOEXEC, Native.IPPROTO_TCP);
        }

        if (fd < 0)
        {
            return ValueTask.FromException<ProbeOutcome>(new SocketException((int)Errors.ToSocketError(Marshal.GetLastPInvokeError())));
        }

        // Hold back the handshake's last ACK. TCP_CHECK: the reset reaches the server before its application sees
        // anything. HTTP_GET: the ACK rides on the request (HAProxy's tcp-smart-connect), one packet less per check.
        var off = 0;
        Native.setsockopt(fd, Native.IPPROTO_TCP, Native.TCP_QUICKACK, &off, sizeof(int));

        if (target.LocalEndpoint is { } local)
        {
            var localAddress = SocketAddresses.Of(local);
            fixed (byte* a = localAddress)
            {
                if (Native.bind(fd, a, localAddress.Length) < 0)
                {
                    // As .NET's Socket.Bind throws: the engine logs it and tries again a delay_loop later.
                    var error = Marshal.GetLastPInvokeError();
                    Native.close(fd);
                    return ValueTask.FromException<ProbeOutcome>(new SocketException((int)Errors.ToSocketError(error)));
                }
            }
        }

        var operation = cache.Take();
        operation.Begin(this, fd, family, reusable, http, cancellationToken);
        var version = operation.Version;
        Watch(cancellationToken);
        uint generation;
        int slot;
        lock (_gate)
        {
            slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _usedSlots++;
            if (slot == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
            }

            generation = ++_generation;
            operation.Slot = slot;
            operation.Generation = generation;
            _slots[slot] = operation;
        }

        int connected;
        fixed (byte* a = address)
        {
            connected = Native.connect(fd, a, address.Length);
        }

        var connectError = connected < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (connectError != 0 && connectError != Errors.EINPROGRESS)
        {
            // Refused or unreachable at once (loopback): done without the loop. Nothing else can finish an unarmed operation.
            var outcome = SocketProbing.Classify(Errors.ToSocketError(connectError), "connect");
            operation.TryDetach();
            cache.Return(operation);
            return new ValueTask<ProbeOutcome>(outcome);
        }

        var registration = new Native.EpollEvent
        {
            Events = Native.EPOLLIN | Native.EPOLLOUT | Native.EPOLLRDHUP | Native.EPOLLET,
            Data = ((ulong)generation << 32) | (uint)slot,
        };
        // A reused socket keeps its registration and gets this probe's slot; both look at the socket's state now, so
        // a connection that completed inside connect() (loopback) is reported, and an event of its last probe is not.
        if (Native.epoll_ctl(_epoll, registered ? Native.EPOLL_CTL_MOD : Native.EPOLL_CTL_ADD, fd, &registration) < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            operation.Reusable = false;
            operation.TryDetach();
            cache.Return(operation);
            return ValueTask.FromException<ProbeOutcome>(new SocketException((int)Errors.ToSocketError(error)));
        }

        // Armed: from here the loop may finish it (readiness, time limit, stop), possibly before this returns.
        var deadline = Stopwatch.GetTimestamp() + (long)(target.Timeout.TotalSeconds * Stopwatch.Frequency);
        bool wake;
        lock (_gate)
        {
            operation.Armed = true;
            _deadlines.Enqueue((operation, generation), deadline);
            // The loop publishes when it will wake under the same lock: it sleeps past this limit only if told.
            wake = deadline < _wakeAt;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            Volatile.Write(ref _cancelScan, 1);
            wake = true;
        }

        if (wake)
        {
            Wake();
        }

        return new ValueTask<ProbeOutcome>(operation, version);
    }

    /// <summary>An idle socket of <paramref name="family"/>, still registered with epoll; -1 when there is none.</summary>
    private int TakeIdle(int family)
    {
        var idle = family == Native.AF_INET6 ? _idle6 : _idle4;
        lock (_gate)
        {
            return idle.Count > 0 ? idle.Pop() : -1;
        }
    }

    /// <summary>
    /// Ends a probe's connection. A reusable socket is dissolved with connect(AF_UNSPEC), which resets an open
    /// connection (a RST, as SO_LINGER 0 and close would) and leaves the socket unconnected, and is kept for another
    /// probe: no socket(), epoll registration, setsockopt and close per probe. A bound socket, or one the kernel would
    /// not dissolve, is reset and closed.
    /// </summary>
    internal void Recycle(int fd, int family, bool reusable)
    {
        if (reusable)
        {
            var unspecified = stackalloc byte[16];
            new Span<byte>(unspecified, 16).Clear();
            // Dissolving leaves ECONNRESET on the socket; the next connect() clears it (tcp_connect_init), and epoll
            // reports a socket's state as it is when asked (ProbeSocketReuseTests covers every kind of end).
            if (Native.connect(fd, unspecified, 16) == 0)
            {
                var idle = family == Native.AF_INET6 ? _idle6 : _idle4;
                lock (_gate)
                {
                    if (idle.Count < MaxIdleSockets)
                    {
                        idle.Push(fd);
                        return;
                    }
                }
            }
        }

        var linger = stackalloc int[2] { 1, 0 };
        Native.setsockopt(fd, Native.SOL_SOCKET, Native.SO_LINGER, linger, 2 * sizeof(int));
        Native.close(fd);
    }

    /// <summary>Forgets an operation's slot (before its socket is closed, so that a late event cannot reach it).</summary>
    internal void Release(LoopOperation operation)
    {
        lock (_gate)
        {
            if (operation.Slot >= 0 && _slots[operation.Slot] == operation)
            {
                _slots[operation.Slot] = null;
                _freeSlots.Push(operation.Slot);
            }

            operation.Slot = -1;
        }
    }

    private void Watch(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return;
        }

        lock (_gate)
        {
            if (_watched.Contains(cancellationToken))
            {
                return;
            }

            _watched.Add(cancellationToken);
        }

        cancellationToken.UnsafeRegister(static state =>
        {
            var loop = (ProbeLoop)state!;
            Volatile.Write(ref loop._cancelScan, 1);
            loop.Wake();
        }, this);
    }

    /// <summary>
    /// Runs <paramref name="item"/> on the loop's thread once <see cref="Stopwatch.GetTimestamp"/> reaches
    /// <paramref name="dueAt"/> (at most a millisecond early). A checker's next probe is filed here by the result of the
    /// last one, on this thread, so that the whole probe (socket, connect, reset, result) and its timing stay on one
    /// thread, as HAProxy's tasks do: no scheduler thread, no cross-thread hand-off, no wake-up per probe.
    /// </summary>
    public void RunAt(IThreadPoolWorkItem item, long dueAt)
    {
        if (t_current == this)
        {
            _timers.Enqueue(item, dueAt);
            return;
        }

        bool wake;
        lock (_gate)
        {
            _arriving.Add((item, dueAt));
            // The loop publishes when it will wake under the same lock (long.MinValue while it is awake: it looks at
            // what arrived before it sleeps again).
            wake = dueAt < _wakeAt;
        }

        if (wake)
        {
            Wake();
        }
    }

    /// <summary>Takes in the work filed from other threads (under <see cref="_gate"/>).</summary>
    private void TakeArriving()
    {
        foreach (var (item, at) in _arriving)
        {
            _timers.Enqueue(item, at);
        }

        _arriving.Clear();
    }

    private void RunDue()
    {
        lock (_gate)
        {
            TakeArriving();
        }

        // What falls due within the next millisecond runs now: waits are whole milliseconds.
        var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 1000);
        for (var ran = 0; ran < MaxDuePerTurn && _timers.TryPeek(out var item, out var at) && at <= until; ran++)
        {
            _timers.Dequeue();
            try
            {
                item.Execute();
            }
            catch (Exception e)
            {
                // A work item must not take the loop down (the probes of every checker run here). Said in one line: the
                // watchdog reports the checker when it stays silent.
                Console.Error.WriteLine($"lvs-health: {Thread.CurrentThread.Name}: a probe failed unexpectedly and was dropped ({e.GetType().Name}: {e.Message})");
            }
        }
    }

    private void Wake()
    {
        ulong one = 1;
        Native.write(_wake, &one, sizeof(ulong));
    }

    private void Run()
    {
        t_current = this;
        var events = new Native.EpollEvent[MaxEvents];
        var expired = new List<LoopOperation>();
        while (true)
        {
            RunDue();
            var timeout = Timeout();
            int count;
            fixed (Native.EpollEvent* e = events)
            {
                count = Native.epoll_wait(_epoll, e, MaxEvents, timeout);
            }

            Volatile.Write(ref _lastTurn, Stopwatch.GetTimestamp());
            lock (_gate)
            {
                // Awake: a new time limit is seen by the next Timeout() without being signalled.
                _wakeAt = long.MinValue;
            }

            if (count < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error != Errors.EINTR)
                {
                    throw new SocketException((int)Errors.ToSocketError(error));
                }

                count = 0;
            }

            for (var i = 0; i < count; i++)
            {
                var data = events[i].Data;
                if (data == WakeData)
                {
                    ulong drained;
                    Native.read(_wake, &drained, sizeof(ulong));
                    continue;
                }

                LoopOperation? operation;
                lock (_gate)
                {
                    var slot = (int)(uint)data;
                    operation = slot < _slots.Length ? _slots[slot] : null;
                    if (operation is not null && operation.Generation != (uint)(data >> 32))
                    {
                        operation = null;
                    }
                }

                operation?.OnReady(events[i].Events);
            }

            Expire(expired);
            if (Interlocked.Exchange(ref _cancelScan, 0) == 1)
            {
                CancelStopped();
            }
        }
    }

    /// <summary>
    /// Milliseconds until the earliest time limit or due work (at most a second); publishes when the loop will wake.
    /// </summary>
    private int Timeout()
    {
        var now = Stopwatch.GetTimestamp();
        long next;
        lock (_gate)
        {
            TakeArriving();
            next = Math.Min(_deadlines.TryPeek(out _, out var at) ? at : long.MaxValue, now + Stopwatch.Frequency);
            if (_timers.TryPeek(out _, out var due) && due < next)
            {
                next = due;
            }

            _wakeAt = next;
        }

        var ticks = Math.Max(0, next - now);
        return (int)Math.Min(1000, ((ticks * 1000) + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
    }

    private void Expire(List<LoopOperation> expired)
    {
        var now = Stopwatch.GetTimestamp();
        expired.Clear();
        lock (_gate)
        {
            while (_deadlines.TryPeek(out var entry, out var at) && at <= now)
            {
                _deadlines.Dequeue();
                if (entry.Operation.Generation == entry.Generation && entry.Operation.Slot >= 0)
                {
                    expired.Add(entry.Operation);
                }
            }
        }

        foreach (var operation in expired)
        {
            operation.OnTimeout();
        }
    }

    private void CancelStopped()
    {
        var stopped = new List<LoopOperation>();
        lock (_gate)
        {
            _watched.RemoveAll(t => t.IsCancellationRequested);
            foreach (var operation in _slots)
            {
                if (operation is not null && operation.Armed && operation.Cancellation.IsCancellationRequested)
                {
                    stopped.Add(operation);
                }
            }
        }

        foreach (var operation in stopped)
        {
            operation.OnCanceled();
        }
    }

    /// <summary>One probe operation at a time per probe: its operation object is reused.</summary>
    internal sealed class OperationCache
    {
        private LoopOperation? _spare;

        public LoopOperation Take() => Interlocked.Exchange(ref _spare, null) ?? new LoopOperation(this);

        public void Return(LoopOperation operation) => Volatile.Write(ref _spare, operation);
    }
}

/// <summary>What an HTTP_GET probe sends and checks on one connection.</summary>
internal sealed record HttpExchange(byte[] Request, HttpUrlCheck Url);

/// <summary>One probe's socket on the <see cref="ProbeLoop"/>: connect, maybe an HTTP exchange, then a reset.</summary>
internal sealed unsafe class LoopOperation(ProbeLoop.OperationCache cache) : IValueTaskSource<ProbeOutcome>
{
    private const int HeaderBufferBytes = 16 * 1024;
    private static readonly string[] StageNames = ["connect", "request", "response"];
    private ManualResetValueTaskSourceCore<ProbeOutcome> _core;
    private ProbeLoop? _loop;
    private int _fd = -1;
    private int _family;
    private int _done;
    private HttpExchange? _http;
    private Stage _stage;
    private int _sent;
    private HttpResponseReader? _response;

    private enum Stage
    {
        Connect,
        Request,
        Response,
    }

    /// <summary>Its place in the loop's table (-1: none); under the loop's lock.</summary>
    public int Slot { get; set; } = -1;

    public uint Generation { get; set; }

    /// <summary>Its socket may serve another probe afterwards (not bound, and registered with epoll).</summary>
    public bool Reusable { get; set; }

    /// <summary>Registered with epoll and given its time limit: the loop may finish it.</summary>
    public bool Armed { get; set; }

    public CancellationToken Cancellation { get; private set; }

    public short Version => _core.Version;

    public void Begin(ProbeLoop loop, int fd, int family, bool reusable, HttpExchange? http, CancellationToken cancellationToken)
    {
        _loop = loop;
        _fd = fd;
        _family = family;
        Reusable = reusable;
        _http = http;
        _stage = Stage.Connect;
        _sent = 0;
        _response = null;
        Armed = false;
        Cancellation = cancellationToken;
        Volatile.Write(ref _done, 0);
    }

    /// <summary>Loop thread: the socket is readable, writable or in error (edge-triggered: read or write until EAGAIN).</summary>
    public void OnReady(uint events)
    {
        if (_stage == Stage.Connect)
        {
            // Writable and no error: connected (no SO_ERROR to read, one system call less per probe).
            var error = 0;
            if ((events & (Native.EPOLLERR | Native.EPOLLHUP)) != 0 || (events & Native.EPOLLOUT) == 0)
            {
                var length = sizeof(int);
                if (Native.getsockopt(_fd, Native.SOL_SOCKET, Native.SO_ERROR, &error, &length) < 0)
                {
                    error = Marshal.GetLastPInvokeError();
                }
            }

            if (error != 0)
            {
                Finish(SocketProbing.Classify(Errors.ToSocketError(error), StageNames[(int)_stage]));
                return;
            }

            if ((events & Native.EPOLLOUT) == 0)
            {
                return;
            }

            if (_http is null)
            {
                Finish(ProbeOutcome.Up());
                return;
            }

            _stage = Stage.Request;
        }

        if (_stage == Stage.Request)
        {
            var request = _http!.Request;
            while (_sent < request.Length)
            {
                nint sent;
                fixed (byte* r = request)
                {
                    sent = Native.send(_fd, r + _sent, request.Length - _sent, Native.MSG_NOSIGNAL);
                }

                if (sent < 0)
                {
                    var error = Marshal.GetLastPInvokeError();
                    if (error != Errors.EAGAIN)
                    {
                        Finish(SocketProbing.Classify(Errors.ToSocketError(error), StageNames[(int)_stage]));
                    }

                    return;
                }

                _sent += (int)sent;
            }

            _stage = Stage.Response;
            _response = new HttpResponseReader(_http.Url, HeaderBufferBytes);
            if ((events & (Native.EPOLLIN | Native.EPOLLRDHUP | Native.EPOLLERR | Native.EPOLLHUP)) == 0)
            {
                // The answer comes after the request: its arrival is a new edge, reported by a later wait.
                return;
            }
        }

        if (_response is not { } response)
        {
            return;
        }

        while (true)
        {
            var space = response.Space;
            if (space.Length == 0)
            {
                Finish(HttpResponseReader.HeadersTooLarge());
                return;
            }

            nint received;
            fixed (byte* b = space)
            {
                received = Native.recv(_fd, b, space.Length, 0);
            }

            if (received < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error != Errors.EAGAIN)
                {
                    Finish(SocketProbing.Classify(Errors.ToSocketError(error), StageNames[(int)_stage]));
                }

                return;
            }

            if (response.Received((int)received) is { } outcome)
            {
                Finish(outcome);
                return;
            }
        }
    }

    /// <summary>Loop thread: the time limit passed.</summary>
    public void OnTimeout() => Finish(ProbeOutcome.Failed(ProbeErrorClass.Timeout, $"timeout during {StageNames[(int)_stage]}"));

    /// <summary>Loop thread: the service is stopping.</summary>
    public void OnCanceled()
    {
        if (TryDetach())
        {
            _core.SetException(new OperationCanceledException(Cancellation));
        }
    }

    private void Finish(ProbeOutcome outcome)
    {
        if (TryDetach())
        {
            _core.SetResult(outcome);
        }
    }

    /// <summary>Takes the operation out of the loop and resets its socket; false when it was already finished.</summary>
    public bool TryDetach()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return false;
        }

        _loop?.Release(this);
        Close();
        _response?.Dispose();
        _response = null;
        return true;
    }

    /// <summary>Resets the connection rather than leaving it in TIME_WAIT, as HAProxy's checks do.</summary>
    private void Close()
    {
        if (_fd < 0)
        {
            return;
        }

        if (_loop is { } loop)
        {
            loop.Recycle(_fd, _family, Reusable);
        }
        else
        {
            Native.close(_fd);
        }

        _fd = -1;
    }

    public ProbeOutcome GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            _loop = null;
            _http = null;
            Cancellation = default;
            cache.Return(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

/// <summary>An HTTP response read as it arrives: headers into a buffer, then the body hashed (and kept for a regex).</summary>
internal sealed class HttpResponseReader(HttpUrlCheck url, int headerBytes) : IDisposable
{
    private byte[] _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(headerBytes);
    private readonly int _headerBytes = headerBytes;
    private int _filled;
    private bool _inBody;
    private int _status;
    private HttpBodyCheck? _body;

    /// <summary>Where the next bytes go; empty when the headers filled the buffer without ending.</summary>
    public Span<byte> Space => _inBody ? _buffer.AsSpan() : _buffer.AsSpan(_filled, _headerBytes - _filled);

    public static ProbeOutcome HeadersTooLarge() => ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "response headers larger than 16 KiB");

    /// <summary>Takes <paramref name="count"/> bytes just written to <see cref="Space"/> (0: the server closed); the outcome once known.</summary>
    public ProbeOutcome? Received(int count)
    {
        if (_inBody)
        {
            if (count == 0)
            {
                return _body!.Outcome(_status);
            }

            _body!.Consume(_buffer.AsSpan(0, count));
            return null;
        }

        if (count == 0)
        {
            return _filled == 0
                ? ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "connection closed without a response")
                : ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "connection closed inside the response headers");
        }

        var searchFrom = Math.Max(0, _filled - 3);
        _filled += count;
        var end = _buffer.AsSpan(searchFrom, _filled - searchFrom).IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return null;
        }

        var headerEnd = searchFrom + end;
        if (!HttpProbe.TryParseStatus(_buffer.AsSpan(0, headerEnd), out _status))
        {
            return ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "no HTTP status line");
        }

        _body = new HttpBodyCheck(url);
        _body.Consume(_buffer.AsSpan(headerEnd + 4, _filled - headerEnd - 4));
        if (!_body.NeedsWholeBody)
        {
            return _body.Outcome(_status);
        }

        _inBody = true;
        return null;
    }

    public void Dispose()
    {
        _body?.Dispose();
        if (_buffer.Length > 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}

/// <summary>sockaddr_in / sockaddr_in6 bytes for the system calls.</summary>
internal static class SocketAddresses
{
    public static byte[] Of(IPEndPoint endpoint)
    {
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var v6 = new byte[28];
            BitConverter.TryWriteBytes(v6.AsSpan(0, 2), (ushort)Native.AF_INET6);
            v6[2] = (byte)(endpoint.Port >> 8);
            v6[3] = (byte)endpoint.Port;
            endpoint.Address.TryWriteBytes(v6.AsSpan(8, 16), out _);
            BitConverter.TryWriteBytes(v6.AsSpan(24, 4), (uint)endpoint.Address.ScopeId);
            return v6;
        }

        var v4 = new byte[16];
        BitConverter.TryWriteBytes(v4.AsSpan(0, 2), (ushort)Native.AF_INET);
        v4[2] = (byte)(endpoint.Port >> 8);
        v4[3] = (byte)endpoint.Port;
        endpoint.Address.TryWriteBytes(v4.AsSpan(4, 4), out _);
        return v4;
    }
}

/// <summary>Linux errno values the probes meet, as .NET's socket errors (so that outcomes read the same either way).</summary>
internal static class Errors
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EINPROGRESS = 115;

    public static SocketError ToSocketError(int errno) => errno switch
    {
        1 or 13 => SocketError.AccessDenied,
        EINTR => SocketError.Interrupted,
        EAGAIN => SocketError.WouldBlock,
        22 => SocketError.InvalidArgument,
        23 or 24 => SocketError.TooManyOpenSockets,
        32 => SocketError.Shutdown,
        97 => SocketError.AddressFamilyNotSupported,
        98 => SocketError.AddressAlreadyInUse,
        99 => SocketError.AddressNotAvailable,
        100 => SocketError.NetworkDown,
        101 => SocketError.NetworkUnreachable,
        103 => SocketError.ConnectionAborted,
        104 => SocketError.ConnectionReset,
        105 => SocketError.NoBufferSpaceAvailable,
        107 => SocketError.NotConnected,
        110 => SocketError.TimedOut,
        111 => SocketError.ConnectionRefused,
        112 => SocketError.HostDown,
        113 => SocketError.HostUnreachable,
        EINPROGRESS => SocketError.InProgress,
        _ => SocketError.SocketError,
    };
}

internal static unsafe partial class Native
{
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int IPPROTO_TCP = 6;
    public const int SOL_SOCKET = 1;
    public const int SO_ERROR = 4;
    public const int SO_LINGER = 13;
    public const int TCP_QUICKACK = 12;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x1;
    public const uint EPOLLOUT = 0x4;
    public const uint EPOLLERR = 0x8;
    public const uint EPOLLHUP = 0x10;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 0x80000000;
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    /// <summary>struct epoll_event, packed on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int connect(int fd, byte* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int bind(int fd, byte* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, int* length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epoll, int operation, int fd, EpollEvent* registration);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epoll, EpollEvent* events, int maxEvents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initial, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nint count);
}
