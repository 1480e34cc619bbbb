//! Criterion benches of the loss core on ndarray, for day-to-day work (`cargo bench --features
//! criterion`). The workloads compared with PyTorch live in `examples/bench.rs`.

use burn::tensor::{Distribution, Int, Tensor};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use infonce::backend::NdArrayAutodiff as B;
use infonce::loss;

fn info_nce_forward_backward(c: &mut Criterion) {
    let device = Default::default();
    let mut group = c.benchmark_group("info_nce_fwd_bwd");
    group.sample_size(10);
    for n in [256usize, 1024] {
        let z1 = Tensor::<B, 2>::random([n, 128], Distribution::Normal(0.0, 1.0), &device);
        let z2 = Tensor::<B, 2>::random([n, 128], Distribution::Normal(0.0, 1.0), &device);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, &n| {
            bench.iter(|| {
                let (a, b) = (z1.clone().require_grad(), z2.clone().require_grad());
                let logits = loss::l2_normalize(a.clone())
                    .matmul(loss::l2_normalize(b).transpose())
                    .div_scalar(0.1);
                let l = loss::info_nce(logits, Tensor::<B, 1, Int>::arange(0..n as i64, &device))
                    .unwrap();
                let grads = l.backward();
                a.grad(&grads).unwrap().into_data()
            })
        });
    }
    group.finish();
}

fn nt_xent_forward_backward(c: &mut Criterion) {
    let device = Default::default();
    let z1 = Tensor::<B, 2>::random([512, 128], Distribution::Normal(0.0, 1.0), &device);
    let z2 = Tensor::<B, 2>::random([512, 128], Distribution::Normal(0.0, 1.0), &device);
    let mut group = c.benchmark_group("nt_xent_fwd_bwd");
    group.sample_size(10);
    group.bench_function("512", |bench| {
        bench.iter(|| {
            let a = z1.clone().require_grad();
            let grads = loss::nt_xent(a.clone(), z2.clone(), 0.5)
                .unwrap()
                .backward();
            a.grad(&grads).unwrap().into_data()
        })
    });
    group.finish();
}

criterion_group!(benches, info_nce_forward_backward, nt_xent_forward_backward);
criterion_main!(benches);
