using Weft.Core;

namespace Weft.Core.Tests.Runtime;

public class ModuleTests
{
    private sealed class Log
    {
        public readonly List<string> Events = new();
    }

    private class Recorder(Log log, string name) : IModule
    {
        public Action<EngineBuilder>? Nested;
        public int ReadyAfter;
        private int _polls;

        public string Name => name;
        public virtual void Build(EngineBuilder b)
        {
            log.Events.Add($"build {name}");
            Nested?.Invoke(b);
        }
        public bool IsReady(Engine e) => ++_polls > ReadyAfter;
        public void Finish(Engine e) => log.Events.Add($"finish {name}");
        public void Cleanup(Engine e) => log.Events.Add($"cleanup {name}");
    }

    private sealed class ModA(Log log) : Recorder(log, "A");
    private sealed class ModB(Log log) : Recorder(log, "B");
    private sealed class ModC(Log log) : Recorder(log, "C");
    private sealed class ModD(Log log) : Recorder(log, "D");

    private sealed class Counter
    {
        public int Value;
    }

    [Test]
    public void LifecycleRunsBuildThenReadyThenFinishThenCleanup()
    {
        var log = new Log();
        var a = new ModA(log) { ReadyAfter = 3 };
        var b = new ModB(log);
        Engine engine = new EngineBuilder().AddModule(a).AddModule(b).Build();
        Assert.That(log.Events, Is.EqualTo(new[] { "build A", "build B", "finish A", "finish B", "cleanup A", "cleanup B" }));
        Assert.That(engine.Modules, Is.EqualTo(new IModule[] { a, b }));
    }

    [Test]
    public void ModuleNeverReadyTimesOutNamingIt()
    {
        var b = new EngineBuilder { ReadyTimeout = TimeSpan.FromMilliseconds(50) };
        b.AddModule(new ModA(new Log()) { ReadyAfter = int.MaxValue });
        var e = Assert.Throws<TimeoutException>(() => b.Build())!;
        Assert.That(e.Message, Does.Contain("'A'"));
    }

    [Test]
    public void DuplicateUniqueModuleThrows()
    {
        var log = new Log();
        var b = new EngineBuilder().AddModule(new ModA(log));
        var e = Assert.Throws<DuplicateModuleException>(() => b.AddModule(new ModA(log)))!;
        Assert.That(e.ModuleName, Is.EqualTo("A"));
        Assert.That(log.Events, Is.EqualTo(new[] { "build A" }), "the duplicate is not built");
    }

    [Test]
    public void ActionModulesAreNotUnique()
    {
        var counter = new Counter();
        Action<EngineBuilder> inc = _ => counter.Value++;
        new EngineBuilder().AddModule(inc).AddModule(inc).Build();
        Assert.That(counter.Value, Is.EqualTo(2));
    }

    [Test]
    public void NestedModulesComeRightAfterTheirParent()
    {
        var log = new Log();
        var c = new ModC(log);
        var b = new ModB(log) { Nested = x => x.AddModule(c) };
        var a = new ModA(log);
        var d = new ModD(log);
        Engine engine = new EngineBuilder().AddModule(a).AddModule(b).AddModule(d).Build();
        Assert.That(engine.Modules.Select(m => m.Name), Is.EqualTo(new[] { "A", "B", "C", "D" }));
        Assert.That(log.Events.Where(x => x.StartsWith("finish")), Is.EqualTo(new[] { "finish A", "finish B", "finish C", "finish D" }));
    }

    [Test]
    public void GroupSetDisableAndAddBefore()
    {
        var log = new Log();
        var replacementB = new ModB(log);
        var group = new ModuleGroup().Add(new ModA(log)).Add(new ModB(log)).Add(new ModC(log));
        group.Set(replacementB).Disable<ModA>().AddBefore<ModC>(new ModD(log));
        Assert.Throws<InvalidOperationException>(() => group.Disable<Recorder>());
        Assert.Throws<InvalidOperationException>(() => group.AddBefore<ModC>(new ModD(log)));
        Engine engine = new EngineBuilder().AddModules(group).Build();
        Assert.That(engine.Modules.Select(m => m.Name), Is.EqualTo(new[] { "B", "D", "C" }));
        Assert.That(engine.Modules[0], Is.SameAs(replacementB));
        group.Enable<ModA>();
        Assert.That(group.EnabledModules().Select(m => m.Name), Is.EqualTo(new[] { "A", "B", "D", "C" }));
    }

    [Test]
    public void HostAddedModuleRegistersServicesRegistriesAndBackends()
    {
        var registry = new FakeRegistry("Fake", new FakeDevice("gpu0", DeviceKind.GpuDiscrete));
        Engine engine = new EngineBuilder()
            .AddModule(b => b.AddService(new Counter { Value = 7 }).AddBackend(registry).Register<string>("greeting", "hello"))
            .Build();
        Assert.That(engine.GetService<Counter>().Value, Is.EqualTo(7));
        Assert.That(engine.Registry<string>().Get("GREETING"), Is.EqualTo("hello"));
        Assert.That(engine.Backends.Find("fake"), Is.SameAs(registry));
        Assert.That(engine.TryGetService<Log>(), Is.Null);
        Assert.Throws<InvalidOperationException>(() => engine.GetService<Log>());
        Assert.That(Assert.Throws<KeyNotFoundException>(() => engine.Registry<string>().Get("nope"))!.Message, Does.Contain("greeting"));
    }

    [Test]
    public void RegistrationErrors()
    {
        var b = new EngineBuilder().AddService(new Counter());
        Assert.Throws<InvalidOperationException>(() => b.AddService(new Counter()));
        b.Register<string>("x", "1");
        Assert.Throws<ArgumentException>(() => b.Register<string>("X", "2"));
        b.Build();
        Assert.Throws<InvalidOperationException>(() => b.AddModule(_ => { }));
        Assert.Throws<InvalidOperationException>(() => b.Build());
    }
}

internal sealed class FakeRegistry(string name, params IDevice[] devices) : IBackendRegistry
{
    public string Name => name;
    public IReadOnlyList<IDevice> Devices => devices;
    public int Version = BackendApi.Version;
    int IBackendRegistry.ApiVersion => Version;
}

internal sealed class FakeDevice(string name, DeviceKind kind) : IDevice
{
    public string Name => name;
    public string Description => "fake";
    public DeviceKind Kind => kind;
    public DeviceMemory GetMemory() => new(0, 0);
    public bool Supports(Tensor node) => false;
    public bool SupportsBufferType(IBufferType bufferType) => false;
    public IBackend CreateBackend() => throw new NotSupportedException("fake device");
    public IBufferType DefaultBufferType { get; } = new TestBufferType();
}

public class BackendRegistryTests
{
    [Test]
    public void CpuDevicesComeLast()
    {
        var r = new BackendRegistry();
        r.Add(new FakeRegistry("CpuLike", new FakeDevice("cpu", DeviceKind.Cpu)));
        r.Add(new FakeRegistry("Gpu", new FakeDevice("gpu0", DeviceKind.GpuDiscrete), new FakeDevice("sw", DeviceKind.CpuSoftware), new FakeDevice("gpu1", DeviceKind.GpuIntegrated)));
        Assert.That(r.Devices.Select(d => d.Name), Is.EqualTo(new[] { "gpu0", "gpu1", "cpu", "sw" }));
        Assert.That(r.Add(new FakeRegistry("gpu")), Is.False, "same name twice");
    }

    [Test]
    public void EnvironmentVariableDisablesARegistry()
    {
        const string var = "WEFT_DISABLE_WEFTTESTGPU";
        try
        {
            Environment.SetEnvironmentVariable(var, "1");
            var r = new BackendRegistry();
            Assert.That(r.Add(new FakeRegistry("WeftTestGpu", new FakeDevice("g", DeviceKind.GpuDiscrete))), Is.False);
            Assert.That(r.Registries, Is.Empty);
            Assert.That(r.Disabled, Is.EqualTo(new[] { "WeftTestGpu" }));
            Environment.SetEnvironmentVariable(var, "0");
            Assert.That(r.Add(new FakeRegistry("WeftTestGpu")), Is.True);
        }
        finally
        {
            Environment.SetEnvironmentVariable(var, null);
        }
    }

    [Test]
    public void OtherApiVersionIsRefused()
    {
        var e = Assert.Throws<NotSupportedException>(() => new BackendRegistry().Add(new FakeRegistry("Old") { Version = BackendApi.Version + 1 }))!;
        Assert.That(e.Message, Does.Contain("Old"));
    }
}
