/* /dev inside the container: a fresh tmpfs with the few nodes every program expects. */
#ifndef ONGGI_DEVICES_H
#define ONGGI_DEVICES_H

/* shm_size: /dev/shm's size in bytes (0: Docker's 64 MiB). */
void setup_dev(int rootfd, unsigned long long shm_size);

#endif
