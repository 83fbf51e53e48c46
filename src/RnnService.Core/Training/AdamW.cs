using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnService.Core.Training;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter), the update TorchSharp's <c>optim.AdamW</c> makes, written
/// here so that every number reaching native code travels in a <see cref="Scalar"/> that this class owns and keeps alive.
/// </summary>
/// <remarks>
/// TorchSharp turns a C# number in a tensor operation (<c>mul_(beta1)</c>, <c>add_(grad, alpha: 1 - beta1)</c>, even
/// <c>a + b</c>, whose alpha is 1) into a temporary <see cref="Scalar"/> that nobody disposes. Once its handle has
/// been passed on, the garbage collector may finalize it, freeing the native value while LibTorch still reads it; under
/// load (many collections) training then failed with "Expected false to be true … toFloat". Its own optimizers are
/// written that way, hence this one. Per step: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + ε).
/// </remarks>
public sealed class AdamW : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    private readonly (Parameter Parameter, bool Decays, Tensor Mean, Tensor Variance)[] state;
    private readonly double weightDecay;
    private long steps;

    /// <param name="parameters">Each parameter with whether weight decay applies to it.</param>
    public AdamW(IEnumerable<(Parameter Parameter, bool Decays)> parameters, double learningRate, double weightDecay)
    {
        state = parameters.Select(p => (p.Parameter, p.Decays, zeros_like(p.Parameter).DetachFromDisposeScope(), zeros_like(p.Parameter).DetachFromDisposeScope())).ToArray();
        LearningRate = learningRate;
        this.weightDecay = weightDecay;
    }

    public double LearningRate { get; set; }

    public void ZeroGrad()
    {
        foreach (var (parameter, _, _, _) in state)
        {
            using var grad = parameter.grad;
            grad?.zero_();
        }
    }

    public void Step()
    {
        steps++;
        var (correction1, correction2) = (1 - Math.Pow(Beta1, steps), 1 - Math.Pow(Beta2, steps));
        using var beta1 = Beta1.ToScalar();
        using var oneMinusBeta1 = (1 - Beta1).ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var oneMinusBeta2 = (1 - Beta2).ToScalar();
        using var decay = (1 - LearningRate * weightDecay).ToScalar();
        using var rootCorrection2 = Math.Sqrt(correction2).ToScalar();
        using var epsilon = Epsilon.ToScalar();
        using var stepSize = (-LearningRate / correction1).ToScalar();
        using var one = 1.0.ToScalar();
        using var _ = no_grad();
        foreach (var (parameter, decays, mean, variance) in state)
        {
            using var grad = parameter.grad;
            if (grad is null) continue;
            if (decays && weightDecay > 0) parameter.mul_(decay);
            mean.mul_(beta1).add_(grad, oneMinusBeta1);                         // m
            variance.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);           // v
            using var root = variance.sqrt();
            root.div_(rootCorrection2).add_(epsilon, one);                       // √v̂ + ε
            parameter.addcdiv_(mean, root, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var (_, _, mean, variance) in state)
        {
            mean.Dispose();
            variance.Dispose();
        }
    }
}
