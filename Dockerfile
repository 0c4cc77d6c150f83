# The cxstream image: the package with its locked dependency set.
FROM python:3.11-slim
WORKDIR /opt/cxstream
COPY pyproject.toml README.md ./
COPY requirements ./requirements
COPY cxstream ./cxstream
COPY schemas ./schemas
COPY streams ./streams
COPY sinks ./sinks
COPY stack ./stack
RUN pip install --no-cache-dir -c requirements/lock.txt . \
    && useradd --system --home /var/lib/cxstream cxstream \
    && mkdir -p /var/lib/cxstream && chown cxstream /var/lib/cxstream
USER cxstream
ENV CXSTREAM_STATE_DIR=/var/lib/cxstream
ENTRYPOINT []
CMD ["cxstream", "--help"]
