# Hugging Face Docker Space (and any Docker host): the t-GAN Explorer app on port 8501, as UID 1000.
FROM python:3.11-slim

RUN useradd -m -u 1000 user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TGAN_OFFLINE=1 \
    TGAN_APP_MAX_RUNS=2
WORKDIR /home/user/app

# The CPU torch wheel first (no CUDA libraries: a small image), then the pinned rest.
COPY --chown=user requirements.txt .
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=user . .
USER user
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["streamlit", "run", "explorer/Home.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
