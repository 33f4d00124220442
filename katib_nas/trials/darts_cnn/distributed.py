"""Process layout: one process (CPU or one GPU) or several under ``torchrun``.

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) every process joins one process
group (NCCL on CUDA, gloo on CPU) and takes the GPU numbered ``LOCAL_RANK``. ``batch_size``
stays the *global* batch: each global batch is cut into ``world_size`` equal shards and
process r works on shard r. Weight gradients are averaged by DistributedDataParallel; the
architecture gradients are averaged with ``reduce_mean``, so every process applies the same
Adam step and the alphas stay identical everywhere (they are also broadcast from rank 0 at
the start).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessLayout:
    """Where this process runs and which shard of each batch it owns."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def reduce_mean(self, tensors: list[torch.Tensor]) -> None:
        """Average each tensor across processes, in place (nothing to do in one process)."""
        if not self.distributed or not tensors:
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat /= self.world_size
        offset = 0
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view_as(t))
            offset += t.numel()

    def reduce_sum(self, values: list[float]) -> list[float]:
        """Sum plain numbers across processes."""
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return [float(v) for v in tensor.tolist()]

    def broadcast(self, tensors: list[torch.Tensor]) -> None:
        """Copy rank 0's values into every process's tensors."""
        if not self.distributed:
            return
        with torch.no_grad():
            for t in tensors:
                dist.broadcast(t.data, src=0)

    def check_identical(self, tensors: list[torch.Tensor], what: str) -> None:
        """Raise RuntimeError unless ``tensors`` hold the same values on every process."""
        if not self.distributed:
            return
        local = torch.cat([t.detach().reshape(-1) for t in tensors])
        reference = local.clone()
        dist.broadcast(reference, src=0)
        mismatch = torch.tensor(
            [float(not torch.equal(local, reference))], dtype=torch.float64, device=local.device
        )
        dist.all_reduce(mismatch, op=dist.ReduceOp.MAX)
        if mismatch.item():
            raise RuntimeError(f"{what} differ between processes (rank {self.rank} checked)")

    def shard(self, tensor: torch.Tensor) -> torch.Tensor:
        """This process's part of a global batch (the batch must hold world_size rows)."""
        if not self.distributed:
            return tensor
        if tensor.shape[0] < self.world_size:
            raise ValueError(
                f"a batch of {tensor.shape[0]} cannot be split over {self.world_size} processes"
            )
        return torch.tensor_split(tensor, self.world_size)[self.rank]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def choose_device(requested: str, local_rank: int = 0) -> torch.device:
    """``auto`` takes CUDA when present; ``cuda`` means this process's local GPU."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {requested}: CUDA is not available on this machine")
        if device.index is None:
            device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise ValueError(f"--device {requested}: only cpu, cuda and cuda:N are supported")
    return device


def setup(requested_device: str) -> ProcessLayout:
    """Join the process group when launched by torchrun, and choose the device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = choose_device(requested_device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        logger.info("distributed backend=%s rank=%d world_size=%d", backend, rank, world_size)
    return ProcessLayout(device=device, rank=rank, world_size=world_size)


def teardown(layout: ProcessLayout) -> None:
    """Leave the process group once every rank is done with it.

    Without the barrier a rank that finishes first can tear down gloo's connections while its
    peer still uses them, and the peer aborts at exit ("terminate called without an active
    exception").
    """
    if layout.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
