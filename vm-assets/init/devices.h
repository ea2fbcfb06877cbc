/* /dev inside the container: a fresh tmpfs with the few nodes every program expects. */
#ifndef ONGGI_DEVICES_H
#define ONGGI_DEVICES_H

/* shm_size: /dev/shm's size in bytes (0: Docker's 64 MiB). bind_nodes: in a user namespace, where
 * mknod is refused, the machine's nodes are bind-mounted instead (as runc does). */
void setup_dev(int rootfd, unsigned long long shm_size, int bind_nodes);

#endif
