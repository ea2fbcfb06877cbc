/* /dev inside the container: a fresh tmpfs with the few nodes every program expects. */
#ifndef ONGGI_DEVICES_H
#define ONGGI_DEVICES_H

void setup_dev(int rootfd);

#endif
