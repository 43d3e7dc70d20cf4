"""The seed's five head classes (CLArena's clarena.heads), reconstructed from
the seed's API description (clarena-heads-api.txt, handed over with the
project brief; not part of this repository), bugs included.

These are the reference the C library is checked against (tests/data/*), and
the "seed side" of side-by-side training and benchmarks, so they stay
faithful to the document: same attributes, same set-up and forward logic,
same failure modes. Do not fix anything here. The bugs we keep on purpose:

- HeadsTIL/HeadsCIL.setup_task_id test `task_id not in self.heads.keys()`
  with an int against the ModuleDict's string keys: always true, so a repeated
  set-up replaces the head with a fresh random one.
- HeadsCIL appends to processed_task_ids on every call: a repeated set-up
  duplicates that task's logits in forward.
- HeadsTIL assigns the new nn.Linear to self.head_t, which registers it as a
  second submodule: the state dict has an alias "head_t.weight"/"head_t.bias".
- HeadsMTL.forward with a per-sample task-id tensor takes the output width
  from the last task of torch.unique, fills with zeros (not -inf), allocates
  float32 regardless of dtype, and fails with an unrelated error for an empty
  batch (logits_t unbound) or an unknown id (KeyError from the ModuleDict).
- Forward before set-up fails deep inside PyTorch.

To give a seed head the exact initial weights of a clheads handle, use
clheads_init.init_linear_(head, seed, task_id) or init_like_clheads() below.
"""

import os
import sys

import torch
from torch import Tensor, nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for clheads_init

__all__ = ["HeadsTIL", "HeadsCIL", "HeadDIL", "HeadsMTL", "HeadSTL", "init_like_clheads"]


class HeadsTIL(nn.Module):
    """The output heads for Task-Incremental Learning (TIL)."""

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.heads: nn.ModuleDict = nn.ModuleDict()  # initially no heads
        self.head_t: nn.Linear | None = None
        self.input_dim: int = input_dim
        self.task_id: int

    def setup_task_id(self, task_id: int, num_classes_t: int) -> None:
        self.task_id = task_id
        if self.task_id not in self.heads.keys():  # seed bug: int never equals the str keys
            self.head_t = nn.Linear(self.input_dim, num_classes_t)  # seed bug: alias submodule
            self.heads[f"{self.task_id}"] = self.head_t

    def get_head(self, task_id: int) -> nn.Linear:
        return self.heads[f"{task_id}"]

    def forward(self, feature: Tensor, task_id: int) -> Tensor:
        head_t = self.get_head(task_id)
        logits = head_t(feature)
        return logits


class HeadsCIL(nn.Module):
    """The output heads for Class-Incremental Learning (CIL)."""

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.heads: nn.ModuleDict = nn.ModuleDict()  # initially no heads
        self.input_dim: int = input_dim
        self.task_id: int
        self.processed_task_ids: list[int] = []

    def setup_task_id(self, task_id: int, num_classes_t: int) -> None:
        self.task_id = task_id
        self.processed_task_ids.append(task_id)  # seed bug: appended on every call
        if self.task_id not in self.heads.keys():  # seed bug: int never equals the str keys
            self.heads[f"{self.task_id}"] = nn.Linear(self.input_dim, num_classes_t)

    def forward(self, feature: Tensor, task_id: int | None = None) -> Tensor:
        logits = torch.cat(
            [self.heads[f"{t}"](feature) for t in self.processed_task_ids], dim=-1
        )  # concatenate logits of classes from all heads
        return logits


class HeadDIL(nn.Module):
    """The output head for Domain-Incremental Learning (DIL)."""

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.head: nn.Linear = None
        self.input_dim: int = input_dim
        self._if_head_setup: bool = False

    def if_head_setup(self) -> bool:
        return self._if_head_setup

    def get_head(self, task_id: int | None = None) -> nn.Linear:
        return self.head

    def setup_task(self, num_classes: dict[int, int]) -> None:
        self.head = nn.Linear(self.input_dim, num_classes)
        self._if_head_setup = True

    def forward(self, feature: Tensor, task_id: int | None = None) -> Tensor:
        logits = self.head(feature)
        return logits


class HeadsMTL(nn.Module):
    """The output heads for Multi-Task Learning (MTL)."""

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.heads: nn.ModuleDict = nn.ModuleDict()
        self.input_dim: int = input_dim

    def setup_tasks(self, task_ids: list[int], num_classes: dict[int, int]) -> None:
        for task_id in task_ids:
            self.heads[f"{task_id}"] = nn.Linear(self.input_dim, num_classes[task_id])

    def get_head(self, task_id: int) -> nn.Linear:
        return self.heads[f"{task_id}"]

    def forward(self, feature: Tensor, task_ids: int | Tensor) -> Tensor:
        if isinstance(task_ids, int):
            head_t = self.get_head(task_ids)
            logits = head_t(feature)

        elif isinstance(task_ids, Tensor):
            logits_list = []
            for task_id in torch.unique(task_ids):  # for each unique task in the batch
                idx = (task_ids == task_id).nonzero(as_tuple=True)[0]
                features_t = feature[idx]
                head_t = self.get_head(task_id.item())
                logits_t = head_t(features_t)
                logits_list.append((idx, logits_t))

            # seed bug: width of the last task seen, zero fill, always float32
            logits = torch.zeros(len(task_ids), logits_t.size(1), device=feature.device)
            for idx, logits_t in logits_list:
                logits[idx] = logits_t

        return logits


class HeadSTL(nn.Module):
    """The output head for Single-Task Learning (STL)."""

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.head: nn.Linear = None
        self.input_dim: int = input_dim

    def setup_task(self, num_classes: dict[int, int]) -> None:
        self.head = nn.Linear(self.input_dim, num_classes)

    def forward(self, feature: Tensor) -> Tensor:
        logits = self.head(feature)
        return logits


def init_like_clheads(heads: nn.Module, seed: int) -> nn.Module:
    """Gives every head of a seed object the initial weights a clheads handle
    with the same seed and set-up would have (task id 0 for DIL/STL)."""
    from clheads_init import init_linear_

    if isinstance(heads, (HeadsTIL, HeadsCIL, HeadsMTL)):
        for key, linear in heads.heads.items():
            init_linear_(linear, seed, int(key))
    elif isinstance(heads, (HeadDIL, HeadSTL)):
        init_linear_(heads.head, seed, 0)
    else:
        raise TypeError(f"not a seed head object: {type(heads).__name__}")
    return heads
