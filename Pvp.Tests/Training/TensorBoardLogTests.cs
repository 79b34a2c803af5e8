using Pvp.Training;

namespace Pvp.Tests.Training;

/// <summary>TensorBoard event files written through TorchSharp's SummaryWriter, read back record by record.</summary>
public class TensorBoardLogTests
{
    [Fact]
    public void TheReadersCrc32CIsTheCastagnoliOne() =>
        Assert.Equal(0xE3069283u, TensorBoardEventFile.Crc32C("123456789"u8)); // the standard check value (RFC 3720)

    [Fact]
    public void StepsEvaluationsAndSettingsReadBackFromTheEventFile()
    {
        string folder = Directory.CreateTempSubdirectory("pvp-tb-").FullName;
        try
        {
            var log = new TensorBoardLog(Path.Combine(folder, "cell"));
            log.Settings(new[] { new KeyValuePair<string, string>("LearningRate", "0.001"), new KeyValuePair<string, string>("odd|key", "a\nb") });
            ITrainingObserver observer = log;
            observer.Started("cell", 0, 3);
            observer.Step(1, 2.5, 1e-3);
            observer.Step(2, 2.0, 5e-4);
            observer.Epoch(0, 2.25, new EvaluationResult(0.5, 0.75, 1.5, 8));
            log.Evaluation(new EvaluationResult(0.625, 1.0, 1.25, 8), 3);

            string file = Assert.Single(Directory.GetFiles(Path.Combine(folder, "cell"), "events.out.tfevents.*"));
            var events = TensorBoardEventFile.Read(file);
            Assert.Equal("brain.Event:2", events[0].FileVersion);
            // Scalars carry Unix seconds (TorchSharp writes whole seconds), which TensorBoard's time axes read.
            double now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            Assert.All(events.Skip(1), e => Assert.InRange(e.WallTime, now - 3600, now + 3600));
            Assert.Equal(new[] { (1L, 2.5f), (2L, 2.0f) }, TensorBoardEventFile.Scalars(events, "train/loss"));
            Assert.Equal(new[] { (1L, 1e-3f), (2L, 5e-4f) }, TensorBoardEventFile.Scalars(events, "train/lr"));
            Assert.Equal(new[] { (2L, 2.25f) }, TensorBoardEventFile.Scalars(events, "train/epoch_loss"));
            Assert.Equal(new[] { (2L, 50f), (3L, 62.5f) }, TensorBoardEventFile.Scalars(events, "eval/top1"));
            Assert.Equal(new[] { (2L, 75f), (3L, 100f) }, TensorBoardEventFile.Scalars(events, "eval/top5"));
            Assert.Equal(new[] { (2L, 1.5f), (3L, 1.25f) }, TensorBoardEventFile.Scalars(events, "eval/loss"));
            string settings = Assert.Single(TensorBoardEventFile.Texts(events, "settings"));
            Assert.Equal("| setting | value |\n| --- | --- |\n| LearningRate | 0.001 |\n| odd\\|key | a b |", settings);

            // The reader checks the framing: one flipped byte in a record's data is found.
            var bytes = File.ReadAllBytes(file);
            bytes[^6] ^= 0x01;
            File.WriteAllBytes(file, bytes);
            Assert.Contains("bad data CRC", Assert.Throws<InvalidDataException>(() => TensorBoardEventFile.Read(file)).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
