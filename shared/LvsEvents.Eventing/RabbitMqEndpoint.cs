namespace LvsEvents.Eventing;

/// <summary>
/// The broker named by <c>ConnectionStrings:rabbitmq</c>, an AMQP URI such as
/// <c>amqp://user:password@127.0.0.1:5672/vhost</c>. <see cref="ToString"/> never shows the password.
/// </summary>
public sealed record RabbitMqEndpoint(string Host, int Port, string VirtualHost, string Username, string Password)
{
    public const string ConnectionStringName = "rabbitmq";

    public static RabbitMqEndpoint Parse(string? connectionString)
    {
        const string field = "ConnectionStrings:rabbitmq";
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ConfigurationException($"{field} is not set: give the broker as amqp://user:password@host:5672/vhost (environment variable ConnectionStrings__rabbitmq).");
        }

        if (!Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) || (uri.Scheme != "amqp" && uri.Scheme != "rabbitmq"))
        {
            throw new ConfigurationException($"{field} is not an amqp:// URI (expected amqp://user:password@host:5672/vhost).");
        }

        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo.Length != 2 || userInfo[0].Length == 0)
        {
            throw new ConfigurationException($"{field} has no user and password (expected amqp://user:password@host:5672/vhost).");
        }

        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        return new RabbitMqEndpoint(
            uri.Host,
            uri.IsDefaultPort || uri.Port < 0 ? 5672 : uri.Port,
            vhost.Length == 0 ? "/" : vhost,
            Uri.UnescapeDataString(userInfo[0]),
            Uri.UnescapeDataString(userInfo[1]));
    }

    public override string ToString() => $"amqp://{Username}:***@{Host}:{Port}/{VirtualHost}";
}
