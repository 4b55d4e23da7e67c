"""Handing the training input pipeline to a tf.data service (TensorFlow's own dispatcher
and workers), for when the training host's CPUs cannot decode and augment fast enough."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import tensorflow as tf

CONNECT_SECONDS = 10.0


class DataServiceError(Exception):
    pass


def check_dispatcher(address: str) -> None:
    """The dispatcher at grpc://HOST:PORT answers, or a DataServiceError saying why not: a
    tf.data service consumer would otherwise wait for it forever."""
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "grpc" or not parts.hostname or port is None or parts.path:
        raise DataServiceError(
            f"'{address}' is not a tf.data service address: use grpc://HOST:PORT"
        )
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise DataServiceError(
            f"no tf.data service dispatcher answers at {address} ({exc.strerror or exc}): "
            "start one there (README, Preprocessing on other machines)"
        ) from None


def through_service(batches: tf.data.Dataset, address: str) -> tf.data.Dataset:
    """The same batches, produced by the service's workers.

    Dynamic sharding hands each service worker its share of the source once per epoch;
    each worker drops its own short last batch, so an epoch may come out a batch or two
    short: repeating lets the loop take exactly its steps per epoch. Each training process
    gets its own job, and tf.distribute's element sharding still gives every training
    worker its own part of it."""
    distributed = batches.apply(
        tf.data.experimental.service.distribute(
            processing_mode=tf.data.experimental.service.ShardingPolicy.DYNAMIC,
            service=address,
        )
    )
    return distributed.repeat().with_options(batches.options())
