"""The DARTS search loop: alternate alpha and weight steps, evaluate, record, checkpoint.

Each step of an epoch takes one batch from the weight half and one from the alpha half and

1. updates the alphas: ``Architect.backward`` (second order by default) then Adam with
   ``alpha_lr``, betas (0.5, 0.999) and ``alpha_weight_decay``;
2. updates the weights: cross-entropy on the weight batch, gradient norm clipped to
   ``w_grad_clip``, SGD with ``w_momentum`` and ``w_weight_decay``.

The weight learning rate follows a cosine from ``w_lr`` down to ``w_lr_min`` over
``num_epochs`` (stepped once an epoch). After each epoch the network is evaluated on the alpha
half, the genotype is read off the alphas, the epoch's files and the checkpoint are written,
and only then the four metric lines are printed to stdout. The search's result is the genotype
of the epoch with the highest ``Validation-Accuracy`` (ties go to the later epoch, whose alphas
have trained longer), so there always is one, even when every accuracy is zero.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from katib_nas.atomic_files import write_json_atomic
from katib_nas.darts.primitives import NONE
from katib_nas.trials.darts_cnn import checkpoint as ckpt
from katib_nas.trials.darts_cnn.architect import Architect, Batch, full_precision
from katib_nas.trials.darts_cnn.config import SearchSettings
from katib_nas.trials.darts_cnn.data import (
    SearchData,
    epoch_generator,
    evaluation_batches,
    search_batches,
    steps_per_epoch,
)
from katib_nas.trials.darts_cnn.distributed import ProcessLayout
from katib_nas.trials.darts_cnn.genotype import Genotype, derive_genotype
from katib_nas.trials.darts_cnn.network import SearchNetwork
from katib_nas.trials.darts_cnn.plotting import draw_genotype

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch: its metrics and the genotype its alphas gave."""

    epoch: int
    training_accuracy: float
    training_loss: float
    validation_accuracy: float
    validation_loss: float
    genotype: Genotype

    def metric_lines(self) -> list[str]:
        return [
            f"Training-Accuracy={self.training_accuracy!r}",
            f"Training-Loss={self.training_loss!r}",
            f"Validation-Accuracy={self.validation_accuracy!r}",
            f"Validation-Loss={self.validation_loss!r}",
        ]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["genotype"] = self.genotype.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EpochRecord:
        return cls(**{**data, "genotype": Genotype.from_json(data["genotype"])})


def best_record(history: Sequence[EpochRecord]) -> EpochRecord:
    """The epoch with the highest validation accuracy; ties go to the later epoch."""
    if not history:
        raise ValueError("no epoch has finished yet")
    best = history[0]
    for record in history[1:]:
        if record.validation_accuracy >= best.validation_accuracy:
            best = record
    return best


def emit(line: str) -> None:
    """Write one line for Katib's metrics collector (stdout is reserved for these)."""
    print(line, flush=True)


class DartsSearch:
    """One DARTS search: network, alphas, optimizers, schedule and history."""

    def __init__(
        self,
        settings: SearchSettings,
        primitives: Sequence[str],
        num_layers: int,
        data: SearchData,
        layout: ProcessLayout,
        *,
        seed: int,
        output_dir: Path,
        amp: bool = False,
        micro_batches: int = 1,
        fingerprint: dict[str, Any] | None = None,
    ) -> None:
        if amp and layout.device.type != "cuda":
            raise ValueError("--amp needs a CUDA device; mixed precision is not used on CPU")
        if amp and not torch.cuda.is_bf16_supported():
            raise ValueError("--amp uses bfloat16, which this GPU does not support")
        self.settings = settings
        self.primitives = (*primitives, NONE)
        self.data = data
        self.layout = layout
        self.seed = seed
        self.output_dir = output_dir
        self.micro_batches = micro_batches
        self.fingerprint = fingerprint or {}
        self.autocast: Callable[[], contextlib.AbstractContextManager[object]] = (
            (lambda: torch.autocast(device_type="cuda", dtype=torch.bfloat16))
            if amp
            else contextlib.nullcontext
        )

        torch.manual_seed(seed)
        device = layout.device
        self.net = SearchNetwork(
            self.primitives,
            in_channels=data.in_channels,
            num_classes=data.num_classes,
            num_layers=num_layers,
            num_nodes=settings.num_nodes,
            init_channels=settings.init_channels,
            stem_multiplier=settings.stem_multiplier,
        ).to(device)
        self.alphas = self.net.new_alphas().to(device)
        layout.broadcast(list(self.alphas.parameters()))
        self.model: nn.Module = self.net
        if layout.distributed:
            device_ids = [device.index] if device.type == "cuda" else None
            self.model = DistributedDataParallel(self.net, device_ids=device_ids)

        self.w_optim = torch.optim.SGD(
            self.net.parameters(),
            lr=settings.w_lr,
            momentum=settings.w_momentum,
            weight_decay=settings.w_weight_decay,
        )
        self.alpha_optim = torch.optim.Adam(
            self.alphas.parameters(),
            lr=settings.alpha_lr,
            betas=(0.5, 0.999),
            weight_decay=settings.alpha_weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.w_optim, T_max=settings.num_epochs, eta_min=settings.w_lr_min
        )
        self.architect = Architect(
            self.net,
            self.alphas,
            w_momentum=settings.w_momentum,
            w_weight_decay=settings.w_weight_decay,
            reduce_mean=layout.reduce_mean,
            autocast=self.autocast,
        )
        self.history: list[EpochRecord] = []

    # --- state ------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "epoch": len(self.history),
            "net": self.net.state_dict(),
            "alphas": self.alphas.state_dict(),
            "w_optim": self.w_optim.state_dict(),
            "alpha_optim": self.alpha_optim.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "history": [record.to_json() for record in self.history],
            "rng": ckpt.rng_states(self.layout.device),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.alphas.load_state_dict(state["alphas"])
        self.w_optim.load_state_dict(state["w_optim"])
        self.alpha_optim.load_state_dict(state["alpha_optim"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.history = [EpochRecord.from_json(r) for r in state["history"]]
        ckpt.restore_rng_states(state["rng"], self.layout.device)

    def genotype(self) -> Genotype:
        alpha_normal, alpha_reduce = self.alphas.detached()
        return derive_genotype(alpha_normal, alpha_reduce, self.primitives)

    # --- one step ---------------------------------------------------------------------

    def local_batches(self, x: torch.Tensor, y: torch.Tensor) -> list[Batch]:
        """This process's shard of a global batch, cut into ``micro_batches`` pieces."""
        device = self.layout.device
        x = self.layout.shard(x).to(device, non_blocking=True)
        y = self.layout.shard(y).to(device, non_blocking=True)
        if len(y) < self.micro_batches:
            raise ValueError(
                f"a batch of {len(y)} per process cannot be cut into "
                f"{self.micro_batches} micro-batches; lower --micro-batches or raise batch_size"
            )
        return list(
            zip(
                torch.tensor_split(x, self.micro_batches),
                torch.tensor_split(y, self.micro_batches),
                strict=True,
            )
        )

    def step(self, train: Sequence[Batch], val: Sequence[Batch]) -> tuple[float, float, int]:
        """One alpha update then one weight update; returns local (loss sum, correct, count)."""
        lr = float(self.scheduler.get_last_lr()[0])

        self.alpha_optim.zero_grad(set_to_none=True)
        self.architect.backward(
            train, val, lr, self.w_optim, second_order=self.settings.second_order
        )
        self.alpha_optim.step()

        self.w_optim.zero_grad(set_to_none=True)
        alpha_normal, alpha_reduce = self.alphas.detached()
        loss_sum, correct, count = 0.0, 0.0, 0
        for index, (x, y) in enumerate(train):
            last = index == len(train) - 1
            sync = (
                contextlib.nullcontext()
                if last or not self.layout.distributed
                else (
                    self.model.no_sync()  # type: ignore[operator]
                )
            )
            with sync:
                with self.autocast():
                    logits = self.model(x, alpha_normal, alpha_reduce)
                loss = nn.functional.cross_entropy(full_precision(logits), y)
                (loss / len(train)).backward()
            loss_sum += float(loss.detach()) * len(y)
            correct += float((logits.argmax(dim=1) == y).sum())
            count += len(y)
        nn.utils.clip_grad_norm_(self.net.parameters(), self.settings.w_grad_clip)
        self.w_optim.step()
        return loss_sum, correct, count

    # --- epochs -----------------------------------------------------------------------

    def train_epoch(self, epoch: int) -> tuple[float, float]:
        """Run one epoch of search steps; returns (training accuracy, training loss)."""
        self.net.train()
        generator = epoch_generator(self.seed, epoch)
        steps, batch = steps_per_epoch(self.data, self.settings.batch_size)
        totals = [0.0, 0.0, 0.0]
        started = time.perf_counter()
        for step, (tx, ty, vx, vy) in enumerate(
            search_batches(self.data, self.settings.batch_size, generator, self.layout.device),
            start=1,
        ):
            loss_sum, correct, count = self.step(
                self.local_batches(tx, ty), self.local_batches(vx, vy)
            )
            totals = [totals[0] + loss_sum, totals[1] + correct, totals[2] + count]
            if step % self.settings.print_step == 0 or step == steps:
                logger.info(
                    "train epoch=%d step=%d/%d loss=%.4f accuracy=%.4f",
                    epoch,
                    step,
                    steps,
                    totals[0] / max(totals[2], 1),
                    totals[1] / max(totals[2], 1),
                )
        total_loss, total_correct, total_count = self.layout.reduce_sum(totals)
        elapsed = time.perf_counter() - started
        logger.info(
            "epoch_done epoch=%d seconds=%.2f images_per_second=%.1f batch=%d",
            epoch,
            elapsed,
            steps * batch / max(elapsed, 1e-9),
            batch,
        )
        return total_correct / total_count, total_loss / total_count

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """(accuracy, loss) of the network on the alpha half, in eval mode, no augmentation."""
        self.net.eval()
        alpha_normal, alpha_reduce = self.alphas.detached()
        loss_sum, correct, count = 0.0, 0.0, 0
        batch = max(self.settings.batch_size, 1)
        for x, y in evaluation_batches(
            self.data, batch, rank=self.layout.rank, world_size=self.layout.world_size
        ):
            x, y = x.to(self.layout.device), y.to(self.layout.device)
            with self.autocast():
                logits = self.net(x, alpha_normal, alpha_reduce)
            loss_sum += float(
                nn.functional.cross_entropy(full_precision(logits), y, reduction="sum")
            )
            correct += float((logits.argmax(dim=1) == y).sum())
            count += len(y)
        loss_sum, correct, total = self.layout.reduce_sum([loss_sum, correct, float(count)])
        return correct / total, loss_sum / total

    def _write_epoch_files(self, record: EpochRecord) -> None:
        alpha_normal, alpha_reduce = self.alphas.detached()

        def describe(alphas: list[torch.Tensor]) -> list[dict[str, Any]]:
            return [
                {"alpha": a.cpu().tolist(), "softmax": torch.softmax(a, -1).cpu().tolist()}
                for a in alphas
            ]

        write_json_atomic(
            self.output_dir / ckpt.ALPHAS_DIR / f"epoch_{record.epoch:03d}.json",
            {
                "epoch": record.epoch,
                "primitives": list(self.primitives),
                "normal": describe(alpha_normal),
                "reduce": describe(alpha_reduce),
            },
        )
        best = best_record(self.history)
        write_json_atomic(
            self.output_dir / ckpt.GENOTYPE_NAME,
            {
                "best_epoch": best.epoch,
                "best": best.genotype.to_json(),
                "latest": record.genotype.to_json(),
                "history": [r.to_json() for r in self.history],
            },
        )

    def run(self, *, resume: bool) -> Genotype:
        """Search for ``num_epochs`` epochs (continuing a checkpoint if asked); best genotype."""
        if resume:
            state = ckpt.load_checkpoint(self.output_dir, self.fingerprint)
            if state is None:
                logger.warning("resume=none reason='no checkpoint in %s'", self.output_dir)
            else:
                self.load_state_dict(state)
                logger.info("resume epoch=%d output_dir=%s", len(self.history), self.output_dir)
                if self.layout.is_main:
                    for record in self.history:
                        for line in record.metric_lines():
                            emit(line)

        for epoch in range(len(self.history) + 1, self.settings.num_epochs + 1):
            logger.info("epoch_start epoch=%d lr=%.6g", epoch, self.scheduler.get_last_lr()[0])
            training_accuracy, training_loss = self.train_epoch(epoch)
            self.scheduler.step()
            validation_accuracy, validation_loss = self.evaluate()
            record = EpochRecord(
                epoch,
                training_accuracy,
                training_loss,
                validation_accuracy,
                validation_loss,
                self.genotype(),
            )
            self.history.append(record)
            self.layout.check_identical(list(self.alphas.parameters()), "alphas")
            logger.info("genotype epoch=%d genotype=%s", epoch, record.genotype)
            if self.layout.is_main:
                self._write_epoch_files(record)
                ckpt.save_checkpoint(self.output_dir, self.state_dict())
                for line in record.metric_lines():
                    emit(line)
            self.layout.barrier()

        best = best_record(self.history)
        logger.info(
            "search_done best_epoch=%d validation_accuracy=%.4f",
            best.epoch,
            best.validation_accuracy,
        )
        if self.layout.is_main:
            draw_genotype(best.genotype, self.output_dir)
        return best.genotype
