# Hugging Face Docker Space (and any Docker host): the t-GAN Explorer app on port 8501, as UID 1000.
FROM python:3.11-slim

RUN useradd -m -u 1000 user
# The user before WORKDIR: every folder below is created by and belongs to UID 1000, so the app
# may write where it must (runs under $HOME/runs, data under $HOME/data; never the app folder).
USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TGAN_RUNS=/home/user/runs \
    TGAN_DATA=/home/user/data \
    TGAN_APP_MAX_RUNS=2
WORKDIR /home/user/app

# The CPU torch wheel first (no CUDA libraries: a small image), then the app's pinned rest
# (requirements.txt only: the tests' tools are in requirements-dev.txt, not in the image).
COPY --chown=user requirements.txt .
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=user . .
RUN mkdir -p /home/user/runs /home/user/data
# A Space build is online: MNIST and Fashion-MNIST for live training. An offline build skips
# them (the Training page then offers the synthetic digits) and says so in the build log.
RUN python -m core data mnist fashion \
    || echo "note: offline build, no MNIST / Fashion-MNIST in the image: live training offers the synthetic 'fake' digits only"
ENV TGAN_OFFLINE=1
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8501/_stcore/health')"
# explorer.serve = streamlit run explorer/Home.py <these options>, then the warm-up: every page's
# default view computed once as soon as the server answers (before the first student arrives).
ENV OMP_NUM_THREADS=1
CMD ["python", "-m", "explorer.serve", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
