using LvsEvents.Bench;

return args.FirstOrDefault() switch
{
    "pipeline" => await PipelineBenchmark.RunAsync(args[1..]),
    "emit" => await SpoolingEmitter.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: lvs-bench pipeline [--seconds 60] [--rate 25000]
                   sustained emission -> RabbitMQ -> recorder -> Marten; prints the recorded rate and store lag
               lvs-bench emit --node ID --service NAME --spool DIR --count N
                   emits N events through the durable spool, then keeps delivering until killed (outage tests)
        endpoints come from ConnectionStrings__rabbitmq / __eventstore (./test.sh and ./run.sh set them)
        """);
    return 2;
}
