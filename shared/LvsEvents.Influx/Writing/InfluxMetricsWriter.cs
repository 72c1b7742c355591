using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Influx;

/// <summary>
/// Buffers points and writes them to InfluxDB in batches from a background loop.
/// </summary>
/// <remarks>
/// Metrics are not the source of truth (the event store is), so this writer prefers losing points, counted,
/// over slowing the caller: <see cref="TryWrite"/> never blocks, a full buffer drops the new point, a 4xx answer
/// drops the batch, and 5xx/timeouts/connection errors are retried with exponential backoff and jitter.
/// Logs name the URL and database, never the password, token or connection string.
/// </remarks>
public sealed partial class InfluxMetricsWriter : IHostedService, IAsyncDisposable
{
    /// <summary>Name of the <see cref="IHttpClientFactory"/> client this writer uses.</summary>
    public const string HttpClientName = "LvsEvents.Influx";

    private const int MaxLoggedBodyLength = 1_000;

    private readonly InfluxEndpoint _endpoint;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly InfluxWriterOptions _options;
    private readonly ILogger<InfluxMetricsWriter> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Channel<InfluxPoint> _buffer;
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _lifecycleLock = new();
    private readonly Random _jitter = new();

    private Task? _loop;
    private Task? _stop;
    private long _written;
    private long _dropped;
    private long _rejected;
    private long _abandoned;
    private long _retries;
    private volatile LastErrorRecord? _lastError;

    public InfluxMetricsWriter(
        InfluxEndpoint endpoint,
        IHttpClientFactory httpClientFactory,
        IOptions<InfluxWriterOptions> options,
        ILogger<InfluxMetricsWriter> logger,
        TimeProvider timeProvider)
    {
        _endpoint = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
        _httpClientFactory = httpClientFactory ?? throw new ArgumentNullException(nameof(httpClientFactory));
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _options.ThrowIfInvalid();

        _buffer = Channel.CreateBounded<InfluxPoint>(new BoundedChannelOptions(_options.BufferCapacity)
        {
            // With Wait, TryWrite reports a full buffer instead of silently discarding.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            // Keeps the reader's continuation off the caller's thread.
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>
    /// Queues <paramref name="point"/> for writing. Returns false, and counts the point as dropped, when the
    /// buffer is full or the writer has stopped. Never blocks.
    /// </summary>
    public bool TryWrite(InfluxPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (_buffer.Writer.TryWrite(point))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    public InfluxWriterStatus GetStatus()
    {
        var lastError = _lastError;
        return new InfluxWriterStatus(
            Written: Interlocked.Read(ref _written),
            Dropped: Interlocked.Read(ref _dropped),
            Rejected: Interlocked.Read(ref _rejected),
            Abandoned: Interlocked.Read(ref _abandoned),
            Retries: Interlocked.Read(ref _retries),
            Buffered: _buffer.Reader.Count,
            LastError: lastError?.Message,
            LastErrorAt: lastError?.At);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lifecycleLock)
        {
            if (_loop is not null || _stop is not null)
            {
                return Task.CompletedTask;
            }

            LogStarting(_endpoint.Url, _endpoint.ApiVersion, _endpoint.ApiVersion == InfluxApiVersion.V1 ? _endpoint.Database! : $"{_endpoint.Org}/{_endpoint.Bucket}");
            _loop = Task.Run(() => RunAsync(_abort.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops accepting points and sends what is buffered, for at most <see cref="InfluxWriterOptions.ShutdownFlushTimeout"/>
    /// (or until <paramref name="cancellationToken"/> fires); what is left then is counted as abandoned.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_lifecycleLock)
        {
            return _stop ??= StopOnceAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _abort.Dispose();
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        _buffer.Writer.TryComplete();
        Task? loop;
        lock (_lifecycleLock)
        {
            loop = _loop;
        }

        if (loop is not null)
        {
            try
            {
                await loop.WaitAsync(_options.ShutdownFlushTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
            {
                var abandonedBefore = Interlocked.Read(ref _abandoned);
                await _abort.CancelAsync().ConfigureAwait(false);

                // The loop catches everything itself; once aborted it ends promptly, counting its batch as abandoned.
                await loop.ConfigureAwait(false);
                AbandonBuffered();
                LogShutdownFlushCutShort(_options.ShutdownFlushTimeout, Interlocked.Read(ref _abandoned) - abandonedBefore);
                RecordError($"The shutdown flush did not finish within {_options.ShutdownFlushTimeout}.");
                return;
            }
        }

        // Empty after a normal flush; holds the points if the writer was never started.
        AbandonBuffered();
    }

    private void AbandonBuffered()
    {
        var left = 0;
        while (_buffer.Reader.TryRead(out _))
        {
            left++;
        }

        Interlocked.Add(ref _abandoned, left);
    }

    private async Task RunAsync(CancellationToken abort)
    {
        var batch = new List<InfluxPoint>(Math.Min(_options.MaxBatchSize, 1_024));
        try
        {
            while (await _buffer.Reader.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                try
                {
                    await FillBatchAsync(batch, abort).ConfigureAwait(false);
                    await SendWithRetriesAsync(batch, abort).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !abort.IsCancellationRequested)
                {
                    // A bug here must not end the loop: the buffer would fill and every later point would be dropped.
                    Interlocked.Add(ref _abandoned, batch.Count);
                    RecordError($"Unexpected error while writing a batch: {exception.GetType().Name}: {exception.Message}");
                    LogUnexpectedError(exception, batch.Count);
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            Interlocked.Add(ref _abandoned, batch.Count);
        }
    }

    /// <summary>Collects points until the batch is full, the flush interval since the first point has passed, or the writer stops.</summary>
    private async Task FillBatchAsync(List<InfluxPoint> batch, CancellationToken abort)
    {
        var started = _timeProvider.GetTimestamp();
        while (true)
        {
            while (batch.Count < _options.MaxBatchSize && _buffer.Reader.TryRead(out var point))
            {
                batch.Add(point);
            }

            var remaining = _options.FlushInterval - _timeProvider.GetElapsedTime(started);
            if (batch.Count >= _options.MaxBatchSize || remaining <= TimeSpan.Zero)
            {
                return;
            }

            using var intervalEnd = new CancellationTokenSource(remaining, _timeProvider);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(abort, intervalEnd.Token);
            try
            {
                if (!await _buffer.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                {
                    return; // Stopping and drained: send what we have now.
                }
            }
            catch (OperationCanceledException) when (!abort.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task SendWithRetriesAsync(List<InfluxPoint> batch, CancellationToken abort)
    {
        var body = Encoding.UTF8.GetBytes(LineProtocolEncoder.EncodeBatch(batch));
        for (var retry = 0; ; retry++)
        {
            var attempt = await SendOnceAsync(body, batch.Count, abort).ConfigureAwait(false);
            switch (attempt.Outcome)
            {
                case WriteAttemptOutcome.Stored:
                    Interlocked.Add(ref _written, attempt.StoredPoints);
                    return;

                case WriteAttemptOutcome.Refused:
                    Interlocked.Add(ref _written, attempt.StoredPoints);
                    Interlocked.Add(ref _rejected, attempt.RefusedPoints);
                    RecordError(attempt.Error!);
                    LogRefused(attempt.StatusCode!.Value, attempt.RefusedPoints, batch.Count, attempt.Error!);
                    return;

                case WriteAttemptOutcome.Retryable when retry >= _options.MaxRetryAttempts:
                    Interlocked.Add(ref _abandoned, batch.Count);
                    RecordError(attempt.Error!);
                    LogAbandoned(batch.Count, retry + 1, attempt.Error!);
                    return;

                default:
                    RecordError(attempt.Error!);
                    var delay = RetryBackoff.Delay(retry + 1, _options.RetryInitialDelay, _options.RetryMaxDelay, _jitter);
                    if (attempt.RetryAfter is { } retryAfter && retryAfter > delay)
                    {
                        delay = retryAfter < _options.RetryMaxDelay ? retryAfter : _options.RetryMaxDelay;
                    }

                    Interlocked.Increment(ref _retries);
                    if (retry == 0)
                    {
                        LogRetrying(batch.Count, delay, attempt.Error!);
                    }
                    else
                    {
                        LogRetryingAgain(batch.Count, retry + 1, delay, attempt.Error!);
                    }

                    await Task.Delay(delay, _timeProvider, abort).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task<WriteAttempt> SendOnceAsync(byte[] body, int pointCount, CancellationToken abort)
    {
        using var requestTimeout = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(abort, requestTimeout.Token);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint.WriteUri) { Content = content };
        request.Headers.Authorization = _endpoint.Authorization;

        try
        {
            var client = _httpClientFactory.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, linked.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return WriteAttempt.Stored(pointCount);
            }

            var statusCode = (int)response.StatusCode;
            var responseBody = Truncate(await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false));
            var error = $"InfluxDB answered {statusCode} ({response.StatusCode}): {responseBody}";
            if (statusCode is >= 400 and < 500
                && response.StatusCode is not HttpStatusCode.RequestTimeout and not HttpStatusCode.TooManyRequests)
            {
                return WriteAttempt.Refused(statusCode, error, RefusedPointCount(responseBody, pointCount), pointCount);
            }

            return WriteAttempt.Retryable(error, statusCode, RetryAfterOf(response));
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return WriteAttempt.Retryable($"InfluxDB did not answer within {_options.RequestTimeout}.");
        }
        catch (HttpRequestException exception)
        {
            return WriteAttempt.Retryable($"Cannot reach InfluxDB at {_endpoint.Url}: {exception.Message}");
        }
    }

    /// <summary>
    /// A "partial write" answer (type conflict, points outside the retention policy, ...) says how many points
    /// were dropped; InfluxDB stored the others. Any other 4xx refuses the whole batch.
    /// </summary>
    private static int RefusedPointCount(string responseBody, int pointCount)
    {
        var match = PartialWriteDropped().Match(responseBody);
        if (match.Success
            && responseBody.Contains("partial write", StringComparison.Ordinal)
            && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var dropped))
        {
            return Math.Min(dropped, pointCount);
        }

        return pointCount;
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        return retryAfter?.Date is { } date ? date - _timeProvider.GetUtcNow() : null;
    }

    private void RecordError(string message) => _lastError = new LastErrorRecord(message, _timeProvider.GetUtcNow());

    private static string Truncate(string text) =>
        text.Length <= MaxLoggedBodyLength ? text.Trim() : string.Concat(text.AsSpan(0, MaxLoggedBodyLength), "…");

    [GeneratedRegex(@"dropped=(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex PartialWriteDropped();

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Writing metrics to InfluxDB at {InfluxUrl} ({ApiVersion}, {Target})")]
    private partial void LogStarting(Uri influxUrl, InfluxApiVersion apiVersion, string target);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "InfluxDB refused {RefusedPoints} of {BatchSize} points with status {StatusCode}; they are dropped, not retried: {InfluxError}")]
    private partial void LogRefused(int statusCode, int refusedPoints, int batchSize, string influxError);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Writing {BatchSize} points to InfluxDB failed; retrying in {RetryDelay}: {InfluxError}")]
    private partial void LogRetrying(int batchSize, TimeSpan retryDelay, string influxError);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Writing {BatchSize} points to InfluxDB failed again (attempt {Attempt}); retrying in {RetryDelay}: {InfluxError}")]
    private partial void LogRetryingAgain(int batchSize, int attempt, TimeSpan retryDelay, string influxError);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Gave up writing {BatchSize} points to InfluxDB after {Attempts} attempts: {InfluxError}")]
    private partial void LogAbandoned(int batchSize, int attempts, string influxError);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "The InfluxDB shutdown flush did not finish within {ShutdownFlushTimeout}; {AbandonedPoints} points are abandoned")]
    private partial void LogShutdownFlushCutShort(TimeSpan shutdownFlushTimeout, long abandonedPoints);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "Unexpected error while writing {BatchSize} points to InfluxDB; the batch is abandoned")]
    private partial void LogUnexpectedError(Exception exception, int batchSize);

    private sealed record LastErrorRecord(string Message, DateTimeOffset At);
}
