"""Where Delta tables live: one per data collection under the storage URL (file:// or s3://)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from minio import Minio
from pyarrow import fs

from depictio.config import Settings
from depictio.errors import InvalidArgument

# Ids become path segments: nothing that could climb out of the storage root.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def checked_id(value: str, what: str) -> str:
    """`value` if it is a safe path segment, else InvalidArgument naming `what`."""
    if not SAFE_ID.match(value) or ".." in value:
        raise InvalidArgument(
            f"{what} {value!r} is not a valid id (expected letters, digits, '_', '-', '.')"
        )
    return value


@dataclass(frozen=True)
class TableRef:
    """One data collection's Delta table."""

    project_id: str
    data_collection_id: str


@dataclass(frozen=True)
class Storage:
    """The storage root and the options delta-rs needs to reach it."""

    root_url: str
    options: dict[str, str] = field(default_factory=dict)
    endpoint: str = ""
    access_key: str = ""
    secret_key: str = ""
    region: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Storage:
        """The storage `settings` describe (file://<data_dir>/delta unless DEPICTIO_STORAGE_URL)."""
        url = settings.delta_root_url
        scheme = urlparse(url).scheme
        if scheme == "file":
            return cls(root_url=url)
        if scheme != "s3":
            raise ValueError(f"DEPICTIO_STORAGE_URL must start with file:// or s3://, got {url!r}")
        options = {
            "AWS_REGION": settings.s3_region,
            # Conditional put (If-Match on the ETag): concurrent writers never lose a commit.
            "aws_conditional_put": "etag",
        }
        if settings.s3_endpoint:
            options["AWS_ENDPOINT_URL"] = settings.s3_endpoint
            options["AWS_ALLOW_HTTP"] = str(settings.s3_endpoint.startswith("http://")).lower()
        if settings.s3_access_key:
            options["AWS_ACCESS_KEY_ID"] = settings.s3_access_key
            options["AWS_SECRET_ACCESS_KEY"] = settings.s3_secret_key
        return cls(
            root_url=url,
            options=options,
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
        )

    @property
    def is_s3(self) -> bool:
        """True when tables live in an S3 bucket."""
        return self.root_url.startswith("s3://")

    def project_uri(self, project_id: str) -> str:
        """The location of a project's tables: a local path, or s3://bucket/prefix/project."""
        project = checked_id(project_id, "project id")
        if self.is_s3:
            return f"{self.root_url}/{project}"
        return str(Path(urlparse(self.root_url).path) / project)

    def uri(self, ref: TableRef) -> str:
        """The table's location: a local path, or s3://bucket/prefix/project/dc."""
        collection = checked_id(ref.data_collection_id, "data collection id")
        return f"{self.project_uri(ref.project_id)}/{collection}"

    def delete_project(self, project_id: str) -> int:
        """Deletes a project's tables (their files, history and side files); how many there
        were."""
        path = self.project_uri(project_id).removeprefix("s3://")
        filesystem = self.filesystem()
        found = filesystem.get_file_info(fs.FileSelector(path, allow_not_found=True))
        tables = sum(1 for info in found if info.type == fs.FileType.Directory)
        if found:
            filesystem.delete_dir(path)
        return tables

    def filesystem(self) -> fs.FileSystem:
        """A pyarrow filesystem over the storage root (for the files beside the tables)."""
        if not self.is_s3:
            return fs.LocalFileSystem()
        endpoint = urlparse(self.endpoint) if self.endpoint else None
        return fs.S3FileSystem(
            access_key=self.access_key or None,
            secret_key=self.secret_key or None,
            region=self.region or None,
            endpoint_override=endpoint.netloc if endpoint else None,
            scheme=endpoint.scheme if endpoint else "https",
        )

    def side_path(self, ref: TableRef, name: str) -> str:
        """The filesystem path of a file kept beside the table, under its `_depictio` folder.

        Delta ignores (and vacuum keeps) files under folders whose names start with '_'.
        """
        uri = self.uri(ref)
        base = uri.removeprefix("s3://") if self.is_s3 else uri
        return f"{base}/_depictio/{name}"

    def read_side_file(self, ref: TableRef, name: str) -> bytes | None:
        """The content of a file beside the table, None when there is none."""
        try:
            with self.filesystem().open_input_stream(self.side_path(ref, name)) as stream:
                return bytes(stream.read())
        except FileNotFoundError:
            return None

    def write_side_file(self, ref: TableRef, name: str, content: bytes) -> None:
        """Writes (or replaces) a file beside the table."""
        path = self.side_path(ref, name)
        filesystem = self.filesystem()
        if not self.is_s3:
            filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with filesystem.open_output_stream(path) as stream:
            stream.write(content)

    def prepare(self) -> None:
        """Creates the local root directory or the S3 bucket (with the minio client)."""
        if not self.is_s3:
            Path(urlparse(self.root_url).path).mkdir(parents=True, exist_ok=True)
            return
        bucket = urlparse(self.root_url).netloc
        endpoint = urlparse(self.endpoint or "https://s3.amazonaws.com")
        client = Minio(
            endpoint.netloc,
            access_key=self.access_key or None,
            secret_key=self.secret_key or None,
            region=self.region or None,
            secure=endpoint.scheme == "https",
        )
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
