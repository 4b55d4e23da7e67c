"""Start a tf.data service dispatcher or worker: TensorFlow's own servers, nothing of netspec.

The workers receive the input pipeline's graph from the trainers, so a worker host needs
only TensorFlow (and the files the pipeline reads, at the same paths):

    python tf_data_service.py dispatcher --port 5050 --work-dir /shared/dispatcher
    python tf_data_service.py worker --dispatcher dispatcher-host:5050 --port 5051
    netspec train SPEC --data-service grpc://dispatcher-host:5050
"""

from __future__ import annotations

import argparse
import socket

import tensorflow as tf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    role = parser.add_subparsers(dest="role", required=True)
    dispatcher = role.add_parser("dispatcher", help="the job coordinator (one per cluster)")
    dispatcher.add_argument("--port", type=int, default=5050)
    dispatcher.add_argument(
        "--work-dir", help="journal the dispatcher's state here so a restart resumes the jobs"
    )
    worker = role.add_parser("worker", help="runs input pipelines (as many as needed)")
    worker.add_argument("--dispatcher", required=True, help="HOST:PORT of the dispatcher")
    worker.add_argument("--port", type=int, default=5051)
    worker.add_argument(
        "--address", help="HOST:PORT the trainers reach this worker at (default: hostname)"
    )
    args = parser.parse_args()

    service = tf.data.experimental.service
    if args.role == "dispatcher":
        server = service.DispatchServer(
            service.DispatcherConfig(
                port=args.port,
                work_dir=args.work_dir,
                fault_tolerant_mode=args.work_dir is not None,
            )
        )
    else:
        server = service.WorkerServer(
            service.WorkerConfig(
                dispatcher_address=args.dispatcher,
                worker_address=args.address or f"{socket.getfqdn()}:{args.port}",
                port=args.port,
            )
        )
    server.join()


if __name__ == "__main__":
    main()
