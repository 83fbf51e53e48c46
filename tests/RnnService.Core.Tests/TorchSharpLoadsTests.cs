using TorchSharp;
using static TorchSharp.torch;

namespace RnnService.Core.Tests;

public class TorchSharpLoadsTests
{
    [Fact]
    public void ForwardAndBackwardPassesRunOnThisMachine()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 1f, 2f, 3f }, requires_grad: true);
        var loss = (w * w).sum();

        loss.backward();

        Assert.Equal(14f, loss.item<float>());
        Assert.Equal(new float[] { 2f, 4f, 6f }, w.grad!.data<float>().ToArray());
    }
}
