"""The upload engine, internal: the folder walk (``folder_plan``), the run (``engine``), the
ways bytes reach the server (``channel``: HTTP, or straight into the service in this process for
the embedded client; ``direct``: presigned PUTs to a bucket) and the wire models (``wire``).
The public doors are ``pictograph.workflows`` and ``client.images.upload_from_directory``."""
