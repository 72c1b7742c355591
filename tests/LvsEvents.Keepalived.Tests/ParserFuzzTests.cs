using System.Diagnostics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace LvsEvents.Keepalived.Tests;

/// <summary>
/// Random mutations of valid files must only ever give located diagnostics: no exception, no internal-error
/// diagnostic, and every parse finishes within a time bound.
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly string[] Seeds = Directory.GetFiles(TestFiles.CorpusDirectory, "valid-*.conf")
        .Append(TestFiles.TestData("article-master.conf"))
        .Order(StringComparer.Ordinal)
        .Select(File.ReadAllText)
        .ToArray();

    private static readonly string[] Fragments =
    [
        "{", "}", "\"", "'", "\\", "$", "${", "$X=", "$X=\\\n", "@lb1 ", "@^lb1 ", "~SEQ(I,1,3) ", "~SEQ(", "~LST({A,B},{1,2}) ",
        "include ", "include *.conf\n", "#", "!", "\n", " ", "real_server 1.2.3.4 80 {", "TCP_CHECK {", "url {",
        "virtual_ipaddress {", "999999999999", "-1", "0.5", "::", "/33", "vrrp_instance", "weight", "\t",
    ];

    [Fact]
    public void Seeded_mutations_never_crash_or_hang()
    {
        var random = new Random(20240601);
        var deadline = Stopwatch.StartNew();
        var count = 0;
        while (count < 3000 && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            var seed = Seeds[random.Next(Seeds.Length)];
            var mutated = Mutate(seed, random, random.Next(1, 8));
            AssertParsesCleanly(mutated);
            count++;
        }

        Assert.True(count >= 200, $"only {count} mutations ran in the time budget");
    }

    [Fact]
    public void FsCheck_mutations_never_crash_or_hang()
    {
        var property = Prop.ForAll(
            Arb.From(Gen.Choose(0, int.MaxValue)),
            seed =>
            {
                var random = new Random(seed);
                AssertParsesCleanly(Mutate(Seeds[random.Next(Seeds.Length)], random, random.Next(1, 12)));
                return true;
            });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Theory]
    [InlineData("{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{")]
    [InlineData("$A=$A\n$A\n")]
    [InlineData("$A=${B}\n$B=${A}\n${A}\n")]
    [InlineData("$M= \\\n$M \\\n$M\n$M\n")]
    [InlineData("~SEQ(I,1,1000000) ~SEQ(J,1,1000000) x\n")]
    [InlineData("include keepalived.conf\n")]
    [InlineData("vrrp_instance\n")]
    [InlineData("\"unterminated")]
    [InlineData("real_server 1.2.3.4 80 { TCP_CHECK { url { path / } } }")]
    public void Hostile_inputs_give_located_errors(string text)
    {
        var result = AssertParsesCleanly(text);
        Assert.All(result.Diagnostics, d => Assert.True(d.Location.Line >= 1 && d.Location.Column >= 1));
    }

    [Fact]
    public void A_deep_chain_of_conditional_prefixes_does_not_exhaust_the_stack()
    {
        AssertParsesCleanly(string.Concat(Enumerable.Repeat("@lb1 ", 200_000)) + "global_defs { }\n");
    }

    private static ConfigurationParseResult AssertParsesCleanly(string text)
    {
        var watch = Stopwatch.StartNew();
        var result = ConfigurationParser.ParseText(text, "/fuzz/keepalived.conf", new ParserOptions
        {
            ConfigId = "lb1",
            FileSystem = new InMemoryFileSystem(new Dictionary<string, string> { ["/fuzz/other.conf"] = "global_defs {\n" }),
            MaxLogicalLines = 200_000,
        });
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"parse took {watch.Elapsed} on:\n{text}");
        Assert.DoesNotContain(result.Diagnostics, d => d.Message.StartsWith(ConfigurationParser.InternalErrorPrefix, StringComparison.Ordinal));
        return result;
    }

    private static string Mutate(string text, Random random, int mutations)
    {
        var builder = new StringBuilder(text);
        for (var i = 0; i < mutations; i++)
        {
            var position = builder.Length == 0 ? 0 : random.Next(builder.Length);
            switch (random.Next(6))
            {
                case 0 when builder.Length > 0:
                    builder.Remove(position, Math.Min(random.Next(1, 20), builder.Length - position));
                    break;
                case 1:
                    builder.Insert(position, (char)random.Next(32, 127));
                    break;
                case 2:
                    builder.Insert(position, Fragments[random.Next(Fragments.Length)]);
                    break;
                case 3 when builder.Length > 0:
                    var length = Math.Min(random.Next(1, 200), builder.Length - position);
                    builder.Insert(position, builder.ToString(position, length));
                    break;
                case 4:
                    var braces = builder.ToString().Select((c, index) => (c, index)).Where(p => p.c is '{' or '}').ToList();
                    if (braces.Count > 0)
                    {
                        builder.Remove(braces[random.Next(braces.Count)].index, 1);
                    }

                    break;
                default:
                    builder.Insert(position, random.Next(2) == 0 ? "\n" : " ");
                    break;
            }
        }

        return builder.ToString();
    }
}
